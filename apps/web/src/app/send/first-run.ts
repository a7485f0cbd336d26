import { ChangeDetectionStrategy, Component, signal } from '@angular/core';

const SEEN_KEY = 'ephemeral-share.first-run-seen';

function seenBefore(): boolean {
  try {
    return localStorage.getItem(SEEN_KEY) === '1';
  } catch {
    return false; // Storage blocked: show it, it costs one click.
  }
}

/**
 * How it works, in three lines, for a person's first visit; once closed it
 * stays closed (remembered in this browser), so a returning user goes
 * straight to picking files.
 */
@Component({
  selector: 'es-first-run',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (open()) {
      <section class="card first-run" aria-labelledby="first-run-heading" data-testid="first-run">
        <h2 id="first-run-heading" i18n="@@firstRun.heading">How it works</h2>
        <ol>
          <li i18n="@@firstRun.pick">
            Pick files or a folder. They stay on this device; nothing is uploaded.
          </li>
          <li i18n="@@firstRun.send">
            Send the link (or show the QR code) to whoever should get them.
          </li>
          <li i18n="@@firstRun.download">
            Their browser downloads straight from this tab, encrypted end to end, and checks every
            file. Keep this tab open until they are done; closing it ends the share.
          </li>
        </ol>
        <button
          type="button"
          data-testid="first-run-close"
          (click)="close()"
          i18n="@@firstRun.close"
        >
          Got it
        </button>
      </section>
    }
  `,
  styles: `
    .first-run ol {
      margin: 0 0 0.75rem;
      padding-left: 1.25rem;
    }
    .first-run li {
      margin-block: 0.25rem;
    }
    h2 {
      font-size: 1.05rem;
      margin-top: 0;
    }
  `,
})
export class FirstRun {
  protected readonly open = signal(!seenBefore());

  protected close(): void {
    this.open.set(false);
    try {
      localStorage.setItem(SEEN_KEY, '1');
    } catch {
      // Not remembered; it shows again next time.
    }
  }
}
