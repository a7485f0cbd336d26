import { ChangeDetectionStrategy, Component, computed, effect, input, signal } from '@angular/core';
import { toDataURL } from 'qrcode';

/** The share link as a QR code, for opening it on a phone. */
@Component({
  selector: 'es-qr-code',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (dataUrl(); as url) {
      <img [src]="url" [alt]="alt()" width="176" height="176" />
    }
  `,
  styles: `
    img {
      display: block;
      border-radius: 8px;
      background: #fff;
      padding: 6px;
    }
  `,
})
export class QrCode {
  readonly value = input.required<string>();
  readonly label = input($localize`:@@qr.defaultLabel:the share link`);
  protected readonly alt = computed(() => {
    const label = this.label();
    return $localize`:@@qr.alt:QR code for ${label}:LABEL:`;
  });
  protected readonly dataUrl = signal<string | null>(null);

  constructor() {
    effect(() => {
      const value = this.value();
      // Error correction "M": survives a little glare on a phone screen while
      // keeping a ~70-character link at a scannable module size.
      toDataURL(value, { errorCorrectionLevel: 'M', margin: 1, width: 176 })
        .then((url) => {
          if (this.value() === value) this.dataUrl.set(url);
        })
        .catch(() => this.dataUrl.set(null));
    });
  }
}
