import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  OnInit,
  signal,
  untracked,
} from '@angular/core';
import { Title } from '@angular/platform-browser';
import { FileEntry } from '@ephemeral/protocol';
import { ConnectFailure } from '../connection/connect-failure';
import { ConnectionPathView } from '../connection/connection-path-view';
import { ByteSizePipe } from '../format/byte-size-pipe';
import { DurationPipe } from '../format/duration-pipe';
import { FileName } from '../format/file-name';
import { notify } from '../share/notify';
import { isTextSnippet } from '../share/text-snippet';
import { FileProgress } from '../transfer/receive/download-queue';
import { markSetup } from '../timing/setup-mark';
import { DownloadStore } from './download-store';
import { downloadMilestones, finishedBatch } from './milestones';

// The file list renders this many rows, and this many more per "Show
// more": every state change re-renders the rows shown, and with ten
// thousand files (tools/bench/run.sh web-transfer --case small) rendering
// them all kept the receiver's main thread busy with style and layout
// rather than with the files. The overall progress counts every file.
export const LIST_PAGE_ROWS = 200;

@Component({
  selector: 'es-receive-page',
  imports: [ByteSizePipe, DurationPipe, FileName, ConnectFailure, ConnectionPathView],
  providers: [DownloadStore],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './receive-page.html',
  styleUrl: './receive-page.css',
  host: { '(window:beforeunload)': 'guardUnload($event)' },
})
export class ReceivePage implements OnInit {
  /** From the route `s/:peerId`. */
  readonly peerId = input.required<string>();
  protected readonly store = inject(DownloadStore);
  protected readonly totalBytes = computed(() =>
    this.store.files().reduce((n, f) => n + f.size, 0),
  );
  protected readonly selectedEntries = computed(() =>
    this.store.files().filter((f) => this.store.selected().has(f.id)),
  );
  /** Rows of the file list rendered now (see LIST_PAGE_ROWS). */
  protected readonly shownCount = signal(LIST_PAGE_ROWS);
  protected readonly shownFiles = computed(() => this.store.files().slice(0, this.shownCount()));
  protected readonly hiddenCount = computed(
    () => this.store.files().length - this.shownFiles().length,
  );
  /** Every file asked for has arrived and verified: nothing left to do. */
  protected readonly allReceived = computed(() => {
    const size = this.store.progress().size;
    return size > 0 && this.store.counts().verified === size;
  });
  /** The sender's friendly name (from the link), shown before anything arrives. */
  protected readonly senderName = computed(
    () => this.store.senderName() ?? $localize`:@@receive.aSender:a sender`,
  );
  /** The milestone a screen reader announces (one polite live region for the page). */
  protected readonly announcement = signal('');
  /** The snippet whose text was just copied. */
  protected readonly copiedText = signal<number | null>(null);
  protected readonly isSnippet = isTextSnippet;
  /** The file whose SHA-256 was just copied (its button says "Copied"). */
  protected readonly copiedSha = signal<number | null>(null);

  private readonly title = inject(Title);

  constructor() {
    let before: ReadonlyMap<number, FileProgress> = new Map();
    effect(() => {
      const after = this.store.progress();
      const files = untracked(() => this.store.files());
      const said = downloadMilestones(before, after, files);
      if (said.length > 0) this.announcement.set(said.join(' '));
      if (finishedBatch(before, after))
        notify($localize`:@@receive.notify.finished:Download finished`, said[said.length - 1]);
      before = after;
    });
    effect(() => {
      const state = this.store.state();
      if (state === 'ready')
        untracked(() => {
          const name = this.senderName();
          this.announcement.set(
            $localize`:@@receive.announce.connected:Connected to ${name}:NAME:.`,
          );
        });
    });
    // The tab title carries the progress, for a person looking at another tab.
    effect(() => {
      const { bytes, size } = this.store.overall();
      const title = $localize`:@@title.receive:Receive files · Ephemeral Share`;
      const percent = this.percent(bytes, size);
      if (this.store.cancellable())
        this.title.setTitle($localize`:@@title.receiving:${percent}:PERCENT:% · ${title}:TITLE:`);
      else if (this.allReceived())
        this.title.setTitle($localize`:@@title.received:✓ Received · ${title}:TITLE:`);
      else if (size > 0) this.title.setTitle(title);
    });
  }

  ngOnInit(): void {
    markSetup('receive-page');
    // The secret is read from the fragment, which the browser never sends.
    this.store.start(this.peerId(), location.hash);
  }

  /** Leaving the page mid-download loses the unfinished files: ask first. */
  protected guardUnload(event: BeforeUnloadEvent): void {
    if (!this.store.cancellable()) return;
    event.preventDefault();
    // Older browsers show the prompt only when returnValue is set.
    event.returnValue = '';
  }

  protected showMore(): void {
    this.shownCount.update((n) => n + LIST_PAGE_ROWS);
  }

  protected downloadAll(): void {
    void this.store.download(this.store.files());
  }

  protected downloadSelected(): void {
    void this.store.download(this.selectedEntries());
  }

  protected downloadOne(entry: FileEntry): void {
    void this.store.download([entry]);
  }

  /** What the file's button does now: start (again), cancel, or nothing. */
  protected actionOf(p: FileProgress | undefined): 'download' | 'cancel' | null {
    if (!p || p.state === 'failed' || p.state === 'cancelled') return 'download';
    if (p.state === 'queued' || p.state === 'downloading') return 'cancel';
    return null;
  }

  protected fileAction(entry: FileEntry, action: 'download' | 'cancel', event: MouseEvent): void {
    if (action === 'download') this.downloadOne(entry);
    // The second click of a double-click on Download would land on Cancel.
    else if (event.detail <= 1) this.store.cancel(entry.id);
  }

  /** The button's accessible name: its visible text first, then the file it acts on. */
  protected actionLabel(
    action: 'download' | 'cancel',
    file: FileEntry,
    p: FileProgress | undefined,
  ): string {
    const path = file.relativePath;
    if (action === 'cancel') return $localize`:@@receive.file.cancelLabel:Cancel ${path}:PATH:`;
    return p
      ? $localize`:@@receive.file.downloadAgainLabel:Download again ${path}:PATH:`
      : $localize`:@@receive.file.downloadLabel:Download ${path}:PATH:`;
  }

  /** Copies a verified digest, to compare with `sha256sum` on the sender's side. */
  protected async copySha(id: number, sha256: string): Promise<void> {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(sha256);
      this.copiedSha.set(id);
      this.announcement.set($localize`:@@receive.sha.copiedAnnounced:SHA-256 copied.`);
    } catch {
      // Select the digest instead, so the person's own copy works.
      const code = document.querySelector(`[data-sha-of="${id}"]`);
      if (code) getSelection()?.selectAllChildren(code);
      this.announcement.set(
        $localize`:@@receive.sha.selected:The SHA-256 is selected: press Ctrl+C to copy it.`,
      );
    }
  }

  /** Copies a shared text snippet; without a clipboard, selects it. */
  protected async copySnippet(id: number, text: string): Promise<void> {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      this.copiedText.set(id);
      this.announcement.set($localize`:@@receive.text.copiedAnnounced:Text copied.`);
    } catch {
      const pre = document.querySelector(`[data-text-of="${id}"]`);
      if (pre) getSelection()?.selectAllChildren(pre);
      this.announcement.set(
        $localize`:@@receive.text.selected:The text is selected: press Ctrl+C to copy it.`,
      );
    }
  }

  protected copyTextLabel(copied: boolean, path: string): string {
    return copied
      ? $localize`:@@receive.text.copiedLabel:Copied the text of ${path}:PATH:`
      : $localize`:@@receive.text.copyLabel:Copy the text of ${path}:PATH:`;
  }

  protected showTextLabel(path: string): string {
    return $localize`:@@receive.text.showLabel:Show text ${path}:PATH:`;
  }

  /** A failed file's line, in words (the engine's reasons are codes). */
  protected failureText(error: string | null): string {
    switch (error) {
      case 'sender-left':
        return $localize`:@@receive.fail.senderLeft:Not finished: the sender left. Nothing of it was kept.`;
      case 'connection-failed':
        return $localize`:@@receive.fail.connection:Not finished: the connection was lost. Nothing of it was kept.`;
      case 'SHA-256 mismatch':
        return $localize`:@@receive.fail.mismatch:Damaged on the way (its SHA-256 did not match), so it was deleted.`;
      case null:
        return $localize`:@@receive.fail.unknown:Failed`;
      default:
        return $localize`:@@receive.fail.other:Failed: ${error}:REASON:`;
    }
  }

  protected selectLabel(path: string): string {
    return $localize`:@@receive.file.selectLabel:Select ${path}:PATH:`;
  }

  protected progressLabel(path: string): string {
    return $localize`:@@receive.file.progressLabel:Progress of ${path}:PATH:`;
  }

  protected copyShaLabel(copied: boolean, path: string): string {
    return copied
      ? $localize`:@@receive.sha.copiedLabel:Copied the SHA-256 of ${path}:PATH:`
      : $localize`:@@receive.sha.copyLabel:Copy the SHA-256 of ${path}:PATH:`;
  }

  protected progressOf(id: number): FileProgress | undefined {
    return this.store.progress().get(id);
  }

  protected percent(bytes: number, size: number): number {
    return size > 0 ? Math.min(100, Math.round((bytes / size) * 100)) : 100;
  }
}
