import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { ConnectionPathView } from '../connection/connection-path-view';
import { ByteSizePipe } from '../format/byte-size-pipe';
import { QrCode } from '../share/qr-code';
import { filesFromDrop, filesFromInput } from './dropped-files';
import { ShareStore } from './share-store';

@Component({
  selector: 'es-send-page',
  imports: [ByteSizePipe, QrCode, ConnectionPathView],
  providers: [ShareStore],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './send-page.html',
  styleUrl: './send-page.css',
})
export class SendPage {
  protected readonly store = inject(ShareStore);
  protected readonly dragging = signal(false);
  protected readonly copied = signal(false);
  /** Copying failed: the link is selected and the person is told to copy it. */
  protected readonly copyHint = signal(false);
  protected readonly totalBytes = computed(() =>
    this.store.files().reduce((n, f) => n + f.size, 0),
  );
  protected readonly activeReceivers = computed(() =>
    this.store
      .receivers()
      .filter((r) => r.state !== 'left' && r.state !== 'rejected' && r.state !== 'failed'),
  );

  protected onPick(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.store.add(filesFromInput(input.files));
    // Reset so picking the same file again still fires `change`.
    input.value = '';
  }

  protected onDragOver(event: DragEvent): void {
    event.preventDefault();
    this.dragging.set(true);
  }

  protected async onDrop(event: DragEvent): Promise<void> {
    event.preventDefault();
    this.dragging.set(false);
    if (event.dataTransfer) this.store.add(await filesFromDrop(event.dataTransfer));
  }

  protected selectAll(event: FocusEvent): void {
    (event.target as HTMLInputElement).select();
  }

  protected async copyLink(link: string): Promise<void> {
    try {
      // Missing on plain http to another device, and refused without focus.
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(link);
      this.copyHint.set(false);
      this.copied.set(true);
      setTimeout(() => this.copied.set(false), 2000);
    } catch {
      // Fall back to what always works: the text selected, the person's own copy.
      this.copied.set(false);
      this.copyHint.set(true);
      const input = document.querySelector<HTMLInputElement>('[data-testid=share-link]');
      input?.focus();
      input?.select();
    }
  }

  protected startOver(): void {
    location.assign('/');
  }

  protected percent(bytes: number, size: number): number {
    return size > 0 ? Math.min(100, Math.round((bytes / size) * 100)) : 0;
  }

  protected stateLabel(state: string): string {
    switch (state) {
      case 'connecting':
        return 'Connecting…';
      case 'connected':
        return 'Browsing the files';
      case 'transferring':
        return 'Downloading';
      case 'idle':
        return 'Connected';
      case 'rejected':
        return 'Refused: wrong link secret';
      case 'left':
        return 'Left';
      case 'failed':
        return 'Could not connect';
      default:
        return state;
    }
  }
}
