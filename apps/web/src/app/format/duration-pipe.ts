import { inject, LOCALE_ID, Pipe, PipeTransform } from '@angular/core';

/** Seconds left -> "1 h 3 min", "42 s" (in the locale's units: "1 Std., 3 Min."); a dash while unknown. */
export function formatDuration(seconds: number | null | undefined, locale = 'en'): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const unit = (value: number, name: 'hour' | 'minute' | 'second') =>
    new Intl.NumberFormat(locale, { style: 'unit', unit: name, unitDisplay: 'short' }).format(
      value,
    );
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return `${unit(Math.floor(s / 60), 'minute')} ${unit(s % 60, 'second')}`;
  return `${unit(Math.floor(s / 3600), 'hour')} ${unit(Math.floor((s % 3600) / 60), 'minute')}`;
}

@Pipe({ name: 'duration' })
export class DurationPipe implements PipeTransform {
  private readonly locale = inject(LOCALE_ID);

  transform(seconds: number | null | undefined): string {
    return formatDuration(seconds, this.locale);
  }
}
