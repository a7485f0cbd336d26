import { ChangeDetectionStrategy, Component, computed, inject, input, OnInit } from '@angular/core';
import { FileEntry } from '@ephemeral/protocol';
import { ByteSizePipe } from '../format/byte-size-pipe';
import { DurationPipe } from '../format/duration-pipe';
import { secretFromHash } from '../share/share-link';
import { FileProgress } from '../transfer/download-session';
import { DownloadStore } from './download-store';

@Component({
  selector: 'es-receive-page',
  imports: [ByteSizePipe, DurationPipe],
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
    this.store.start(this.peerId(), secretFromHash(location.hash));
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

  protected progressOf(id: number): FileProgress | undefined {
    return this.store.progress().get(id);
  }

  protected percent(bytes: number, size: number): number {
    return size > 0 ? Math.min(100, Math.round((bytes / size) * 100)) : 100;
  }
}
