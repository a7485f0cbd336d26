import { ChangeDetectionStrategy, Component, computed, inject, input, OnInit } from '@angular/core';
import { FileEntry } from '@ephemeral/protocol';
import { ConnectFailure } from '../connection/connect-failure';
import { ConnectionPathView } from '../connection/connection-path-view';
import { ByteSizePipe } from '../format/byte-size-pipe';
import { DurationPipe } from '../format/duration-pipe';
import { FileProgress } from '../transfer/receive/download-queue';
import { DownloadStore } from './download-store';

@Component({
  selector: 'es-receive-page',
  imports: [ByteSizePipe, DurationPipe, ConnectFailure, ConnectionPathView],
  providers: [DownloadStore],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './receive-page.html',
  styleUrl: './receive-page.css',
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

  ngOnInit(): void {
    // The secret is read from the fragment, which the browser never sends.
    this.store.start(this.peerId(), location.hash);
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

  /** The button's accessible name: its visible text plus the file it acts on. */
  protected actionLabel(
    action: 'download' | 'cancel',
    file: FileEntry,
    p: FileProgress | undefined,
  ): string {
    if (action === 'cancel') return `Cancel ${file.relativePath}`;
    return p ? `Download ${file.relativePath} again` : `Download ${file.relativePath}`;
  }

  /** Copies a verified digest, to compare with `sha256sum` on the sender's side. */
  protected copySha(sha256: string): void {
    void navigator.clipboard?.writeText(sha256).catch(() => undefined);
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
