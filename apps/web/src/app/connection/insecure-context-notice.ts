import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { PAGE_ENVIRONMENT } from '../page-environment';
import { MEMORY_SAVE_LIMIT_BYTES } from '../transfer/save/save-target';

/**
 * Said on every page opened outside a secure context (plain http at a LAN
 * address, as a phone opening `npm start`'s link would): which parts the
 * browser turns off there, what still works, and how to get the rest —
 * instead of failing later and blaming the browser.
 */
@Component({
  selector: 'es-insecure-context-notice',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (!secure) {
      <aside
        class="card"
        role="note"
        data-testid="insecure-context"
        i18n="@@insecureContext.notice"
      >
        <strong>This page is not on a secure connection</strong> (it was opened over plain
        <code>http://</code> at a network address), so your browser turns off saving straight to
        disk, picking folders and copying to the clipboard here.
        <br />
        <strong>Still works:</strong> sending files, and receiving files of up to {{ limitMiB }} MiB
        each, held in memory and saved one by one (folders arrive as separate files). Bigger files,
        and a folder or zip saved as a whole, need the page opened over <code>https://</code> —
        whoever runs this server can turn that on (see “Share with your phone” in its README).
      </aside>
    }
  `,
  styles: `
    aside {
      margin-top: 1rem;
      border-left: 4px solid var(--warn, #b36b00);
    }
  `,
})
export class InsecureContextNotice {
  protected readonly secure = inject(PAGE_ENVIRONMENT).secureContext;
  protected readonly limitMiB = MEMORY_SAVE_LIMIT_BYTES / (1024 * 1024);
}
