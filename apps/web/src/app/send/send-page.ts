import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  signal,
} from '@angular/core';
import { Title } from '@angular/platform-browser';
import { Router } from '@angular/router';
import { ConnectionPathView } from '../connection/connection-path-view';
import { ByteSizePipe } from '../format/byte-size-pipe';
import { FileName } from '../format/file-name';
import { takeSharedFiles } from '../pwa/app-worker';
import { friendlyName } from '../share/friendly-name';
import { askForNotifications, notificationsSupported } from '../share/notify';
import { QrCode } from '../share/qr-code';
import { snippetFile } from '../share/text-snippet';
import { filesFromDrop, filesFromInput } from './dropped-files';
import { FirstRun } from './first-run';
import { ShareStore } from './share-store';

// The shared-files list renders this many rows, and this many more per
// "Show more": each receiver's progress re-renders the page, and with ten
// thousand files shared (tools/bench/run.sh web-transfer --case small) laying
// out every row on each update kept the sender's main thread busy.
export const LIST_PAGE_ROWS = 200;

@Component({
  selector: 'es-send-page',
  imports: [ByteSizePipe, FileName, FirstRun, QrCode, ConnectionPathView],
  providers: [ShareStore],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './send-page.html',
  styleUrl: './send-page.css',
  // The whole window is the drop zone: a file dropped anywhere is added,
  // and never opened in place of the page (which would end the share).
  host: {
    '(window:dragenter)': 'onDragEnter($event)',
    '(window:dragover)': 'onDragOver($event)',
    '(window:dragleave)': 'onDragLeave($event)',
    '(window:drop)': 'onDrop($event)',
    '(window:paste)': 'onPaste($event)',
    '(window:beforeunload)': 'guardUnload($event)',
  },
})
export class SendPage {
  protected readonly store = inject(ShareStore);
  /** Files are being dragged over the window. */
  protected readonly dragging = signal(false);
  protected readonly copied = signal(false);
  /** Copying failed: the link is selected and the person is told to copy it. */
  protected readonly copyHint = signal(false);
  /** What the page's live region says: the store's milestones, and "Link copied". */
  protected readonly announcement = signal('');
  protected readonly canNotify = notificationsSupported();
  protected readonly totalBytes = computed(() =>
    this.store.files().reduce((n, f) => n + f.size, 0),
  );
  /** Rows of the shared-files list rendered now (see LIST_PAGE_ROWS). */
  protected readonly shownCount = signal(LIST_PAGE_ROWS);
  protected readonly shownFiles = computed(() => this.store.files().slice(0, this.shownCount()));
  protected readonly hiddenCount = computed(
    () => this.store.files().length - this.shownFiles().length,
  );

  protected showMore(): void {
    this.shownCount.update((n) => n + LIST_PAGE_ROWS);
  }
  protected readonly activeReceivers = computed(() =>
    this.store
      .receiverViews()
      .filter((r) => !['left', 'rejected', 'failed'].includes(r.status.state)),
  );
  protected readonly sending = computed(() =>
    this.store.receiverViews().filter((r) => r.status.state === 'transferring'),
  );
  /** This page's own friendly name, as its receivers see it. */
  protected readonly myName = computed(() => {
    const link = this.store.link();
    return link
      ? friendlyName(decodeURIComponent(new URL(link).pathname.split('/').pop() ?? ''))
      : null;
  });

  /** The text typed into "Share a text", not yet added. */
  protected readonly draft = signal('');
  private readonly title = inject(Title);
  private snippets = 0;
  // dragenter/dragleave fire for every child crossed; the count of entered
  // minus left elements is zero only once the drag really left the window.
  private dragDepth = 0;

  constructor() {
    // Opened by the installed app's share target ("Share → Ephemeral Share"):
    // share what the share sheet handed over, and drop the marker from the URL.
    if (new URLSearchParams(location.search).has('shared')) {
      void inject(Router).navigate([], { queryParams: {}, replaceUrl: true });
      void takeSharedFiles()
        .then((files) => this.store.add(files))
        .catch(() => undefined);
    }
    effect(() => {
      const said = this.store.announcement();
      if (said) this.announcement.set(said);
    });
    // The tab title carries the progress of whatever is being sent.
    effect(() => {
      const sending = this.sending();
      const pageTitle = $localize`:@@title.send:Send files · Ephemeral Share`;
      if (sending.length === 0) {
        this.title.setTitle(pageTitle);
        return;
      }
      const bytes = sending.reduce((n, r) => n + r.status.bytes, 0);
      const size = sending.reduce((n, r) => n + r.status.size, 0);
      const percent = this.percent(bytes, size);
      this.title.setTitle(
        $localize`:@@title.sending:${percent}:PERCENT:% sent · ${pageTitle}:TITLE:`,
      );
    });
  }

  protected onPick(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.store.add(filesFromInput(input.files));
    // Reset so picking the same file again still fires `change`.
    input.value = '';
  }

  protected onDragEnter(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    this.dragDepth++;
    if (!this.store.stopped()) this.dragging.set(true);
  }

  protected onDragOver(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    // Without this the browser would open a dropped file in place of the page.
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = this.store.stopped() ? 'none' : 'copy';
  }

  protected onDragLeave(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    this.dragDepth = Math.max(0, this.dragDepth - 1);
    if (this.dragDepth === 0) this.dragging.set(false);
  }

  protected async onDrop(event: DragEvent): Promise<void> {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    this.dragDepth = 0;
    this.dragging.set(false);
    if (event.dataTransfer && !this.store.stopped())
      this.store.add(await filesFromDrop(event.dataTransfer));
  }

  /** "Share a text": the typed text becomes a small text file of the share. */
  protected addText(): void {
    const text = this.draft().trim();
    if (!text) return;
    this.store.add([{ file: snippetFile(text, ++this.snippets), relativePath: '' }]);
    this.draft.set('');
    this.announcement.set($localize`:@@send.text.added:Text added to the share.`);
  }

  /**
   * Pasting files or an image anywhere adds them; pasting text outside a
   * text box adds it as a snippet. Typing into a text box pastes as usual.
   */
  protected onPaste(event: ClipboardEvent): void {
    if (this.store.stopped() || !event.clipboardData) return;
    const files = [...event.clipboardData.files];
    if (files.length > 0) {
      event.preventDefault();
      this.store.add(files.map((file) => ({ file, relativePath: file.name })));
      return;
    }
    const target = event.target as HTMLElement | null;
    if (target?.closest('input, textarea, [contenteditable]')) return;
    const text = event.clipboardData.getData('text/plain').trim();
    if (!text) return;
    event.preventDefault();
    this.store.add([{ file: snippetFile(text, ++this.snippets), relativePath: '' }]);
    this.announcement.set($localize`:@@send.text.added:Text added to the share.`);
  }

  /** Closing the tab ends the share: ask first while a receiver is downloading. */
  protected guardUnload(event: BeforeUnloadEvent): void {
    if (this.sending().length === 0) return;
    event.preventDefault();
    // Older browsers show the prompt only when returnValue is set.
    event.returnValue = '';
  }

  protected selectAll(event: FocusEvent): void {
    (event.target as HTMLTextAreaElement).select();
  }

  protected async copyLink(link: string): Promise<void> {
    try {
      // Missing on plain http to another device, and refused without focus.
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(link);
      this.copyHint.set(false);
      this.copied.set(true);
      this.announcement.set($localize`:@@send.link.copiedAnnounced:Link copied.`);
      setTimeout(() => this.copied.set(false), 2000);
    } catch {
      // Fall back to what always works: the text selected, the person's own copy.
      this.copied.set(false);
      this.copyHint.set(true);
      const box = document.querySelector<HTMLTextAreaElement>('[data-testid=share-link]');
      box?.focus();
      box?.select();
    }
  }

  protected async toggleNotifications(): Promise<void> {
    if (this.store.notifications()) {
      this.store.notifications.set(false);
      return;
    }
    this.store.notifications.set(await askForNotifications());
  }

  protected startOver(): void {
    location.assign('/');
  }

  protected percent(bytes: number, size: number): number {
    return size > 0 ? Math.min(100, Math.round((bytes / size) * 100)) : 0;
  }

  protected progressLabel(name: string): string {
    return $localize`:@@send.receivers.progress:Progress of ${name}:NAME:`;
  }

  protected removeLabel(path: string): string {
    return $localize`:@@send.files.removeLabel:Remove ${path}:PATH:`;
  }

  protected stateLabel(state: string): string {
    switch (state) {
      case 'connecting':
        return $localize`:@@send.state.connecting:Connecting…`;
      case 'connected':
        return $localize`:@@send.state.connected:Looking at the files`;
      case 'transferring':
        return $localize`:@@send.state.transferring:Downloading`;
      case 'idle':
        return $localize`:@@send.state.idle:Connected`;
      case 'rejected':
        return $localize`:@@send.state.rejected:Refused: wrong link secret`;
      case 'left':
        return $localize`:@@send.state.left:Left`;
      case 'failed':
        return $localize`:@@send.state.failed:Could not connect`;
      default:
        return state;
    }
  }
}

function carriesFiles(event: DragEvent): boolean {
  return event.dataTransfer?.types.includes('Files') ?? false;
}
