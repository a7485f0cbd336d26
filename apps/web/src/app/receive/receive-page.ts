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
import { FileProgress } from '../transfer/receive/download-queue';
import { DownloadStore } from './download-store';
import { downloadMilestones } from './milestones';

const PAGE_TITLE = 'Receive files · Ephemeral Share';

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
  /** Every file asked for has arrived and verified: nothing left to do. */
  protected readonly allReceived = computed(() => {
    const jobs = [...this.store.progress().values()];
    return jobs.length > 0 && jobs.every((p) => p.state === 'verified');
  });
  /** The milestone a screen reader announces (one polite live region for the page). */
  protected readonly announcement = signal('');
  /** The file whose SHA-256 was just copied (its button says "Copied"). */
  protected readonly copiedSha = signal<number | null>(null);

  private readonly title = inject(Title);

  constructor() {
    let before: ReadonlyMap<number, FileProgress> = new Map();
    effect(() => {
      const after = this.store.progress();
      const files = untracked(() => this.store.files());
      const said = downloadMilestones(before, after, files);
      before = after;
      if (said.length > 0) this.announcement.set(said.join(' '));
      if (said.some((s) => s.startsWith('All downloads') || s.startsWith('Downloads finished')))
        notify('Download finished', said[said.length - 1]);
    });
    effect(() => {
      const state = this.store.state();
      if (state === 'ready')
        untracked(() =>
          this.announcement.set(`Connected to ${this.store.senderName() ?? 'the sender'}.`),
        );
    });
    // The tab title carries the progress, for a person looking at another tab.
    effect(() => {
      const { bytes, size } = this.store.overall();
      if (this.store.cancellable())
        this.title.setTitle(`${this.percent(bytes, size)}% · ${PAGE_TITLE}`);
      else if (this.allReceived()) this.title.setTitle(`✓ Received · ${PAGE_TITLE}`);
      else if (size > 0) this.title.setTitle(PAGE_TITLE);
    });
  }

  ngOnInit(): void {
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
    if (action === 'cancel') return `Cancel ${file.relativePath}`;
    return p ? `Download again ${file.relativePath}` : `Download ${file.relativePath}`;
  }

  /** Copies a verified digest, to compare with `sha256sum` on the sender's side. */
  protected async copySha(id: number, sha256: string): Promise<void> {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(sha256);
      this.copiedSha.set(id);
      this.announcement.set('SHA-256 copied.');
    } catch {
      // Select the digest instead, so the person's own copy works.
      const code = document.querySelector(`[data-sha-of="${id}"]`);
      if (code) getSelection()?.selectAllChildren(code);
      this.announcement.set('The SHA-256 is selected: press Ctrl+C to copy it.');
    }
  }

  /** A failed file's line, in words (the engine's reasons are codes). */
  protected failureText(error: string | null): string {
    switch (error) {
      case 'sender-left':
        return 'Not finished: the sender left. Nothing of it was kept.';
      case 'connection-failed':
        return 'Not finished: the connection was lost. Nothing of it was kept.';
      case 'SHA-256 mismatch':
        return 'Damaged on the way (its SHA-256 did not match), so it was deleted.';
      case null:
        return 'Failed';
      default:
        return `Failed: ${error}`;
    }
  }

  protected progressOf(id: number): FileProgress | undefined {
    return this.store.progress().get(id);
  }

  protected percent(bytes: number, size: number): number {
    return size > 0 ? Math.min(100, Math.round((bytes / size) * 100)) : 100;
  }
}
