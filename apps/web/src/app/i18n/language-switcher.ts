import { ChangeDetectionStrategy, Component } from '@angular/core';
import { currentLocale, LOCALES, LocaleId, switchLocale } from './locale';

/** The header's language menu; the browser's language is the default. */
@Component({
  selector: 'es-language-switcher',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <label class="switcher">
      <span class="visually-hidden" i18n="@@language.label">Language</span>
      <select data-testid="language" (change)="choose($event)">
        @for (locale of locales; track locale.id) {
          <!-- [selected] per option: a [value] on the select is set before its options exist. -->
          <option [value]="locale.id" [attr.lang]="locale.id" [selected]="locale.id === current">
            {{ locale.name }}
          </option>
        }
      </select>
    </label>
  `,
  styles: `
    select {
      font: inherit;
      font-size: 0.9rem;
      color: var(--text);
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      padding: 0.2rem 0.4rem;
    }
  `,
})
export class LanguageSwitcher {
  protected readonly locales = LOCALES;
  protected readonly current = currentLocale();

  protected choose(event: Event): void {
    const id = (event.target as HTMLSelectElement).value as LocaleId;
    if (id !== this.current) switchLocale(id);
  }
}
