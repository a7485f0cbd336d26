import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { FileEntry, isPeerId } from '@ephemeral/protocol';
import { watchConnection } from '../connection/watch-connection';
import { PAGE_ENVIRONMENT } from '../page-environment';
import { FileProgress } from '../transfer/receive/download-queue';
import {
  DownloadSession,
  DownloadState,
  FailureCause,
  FINAL_STATES,
} from '../transfer/receive/download-session';
import { chooseSaveTarget } from '../transfer/receive/choose-save-target';
import { ServiceWorkerSaveTarget } from '../transfer/save/service-worker-save-target';
import { parseLinkFragment } from '../transfer/auth/link-fragment';
import { ZipSaveTarget } from '../transfer/zip/zip-save-target';
import { MemorySaveTarget } from '../transfer/save/save-target';
import { isTextSnippet } from '../share/text-snippet';
import { friendlyName } from '../share/friendly-name';

/** `outdated-link`: a link from before certificate pinning (a secret, no fingerprint). */
export type ReceivePageState = DownloadState | 'invalid-link' | 'outdated-link';

/** The receiver page's state: wraps DownloadSession in signals. */
@Injectable()
export class DownloadStore {
  readonly state = signal<ReceivePageState>('connecting');
  readonly files = signal<FileEntry[]>([]);
  readonly progress = signal<ReadonlyMap<number, FileProgress>>(new Map());
  readonly selected = signal<ReadonlySet<number>>(new Set());
  /** Why the last download could not start (picker refused, too big for memory). */
  readonly saveError = signal<string | null>(null);
  /** The zip the last several-file download streams into (browsers without File System Access). */
  readonly archiveName = signal<string | null>(null);
  /** Whether any file is waiting or downloading (so there is something to cancel). */
  readonly cancellable = computed(() => {
    const { queued, downloading } = this.counts();
    return queued + downloading > 0;
  });

  /** The session has ended (the sender left, or it never connected): nothing more will arrive. */
  readonly ended = computed(() => {
    const state = this.state();
    return state === 'invalid-link' || state === 'outdated-link' || FINAL_STATES.includes(state);
  });

  /** For a session that ended part-way: what was kept and what was not. */
  readonly outcome = computed(() => {
    const { verified, cancelled } = this.counts();
    return { verified, unfinished: this.progress().size - verified - cancelled };
  });

  /** How many files are in each state, in one pass (the page and the benchmarks read it). */
  readonly counts = computed(() => {
    const counts: Record<FileProgress['state'], number> = {
      queued: 0,
      downloading: 0,
      verifying: 0,
      verified: 0,
      failed: 0,
      cancelled: 0,
    };
    for (const p of this.progress().values()) counts[p.state]++;
    return counts;
  });

  readonly overall = computed(() => {
    const jobs = [...this.progress().values()];
    const size = jobs.reduce((n, p) => n + p.size, 0);
    const bytes = jobs.reduce((n, p) => n + p.bytes, 0);
    const rate = jobs.reduce((n, p) => n + (p.state === 'downloading' ? p.bytesPerSecond : 0), 0);
    return {
      size,
      bytes,
      rate,
      secondsLeft: rate > 0 ? (size - bytes) / rate : null,
      count: jobs.length,
    };
  });

  /** Shared text snippets the person opened, by file ID (see showText). */
  readonly texts = signal<ReadonlyMap<number, string>>(new Map());
  /** The sender's friendly name, from the peer ID in the link (known before connecting). */
  readonly senderName = signal<string | null>(null);
  /** This page's own friendly name, as the sender sees it; once the gateway named this page. */
  readonly myName = signal<string | null>(null);

  /** With 'connection-failed': why no connection could be made (the failure screen says it). */
  readonly failureCause = signal<FailureCause | null>(null);
  /** The connection to the sender: direct or relayed, round trip (read from getStats()). */
  readonly connectionPath = watchConnection(
    async () => (await this.session?.connectionPath()) ?? null,
    null,
    inject(DestroyRef),
  );

  private readonly env = inject(PAGE_ENVIRONMENT);
  private session: DownloadSession | null = null;
  /** Snippets received into memory, shown once their SHA-256 verified. */
  private readonly pendingTexts = new Map<number, Blob>();
  private streamTarget: Promise<ServiceWorkerSaveTarget | null> | null = null;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.session?.close());
  }

  /** `fragment`: the link's `#…`, the secret and the sender certificate's fingerprint. */
  start(senderId: string, fragment: string): void {
    const link = parseLinkFragment(fragment);
    if (!isPeerId(senderId) || link.kind === 'invalid') {
      this.state.set('invalid-link');
      return;
    }
    if (link.kind === 'outdated') {
      this.state.set('outdated-link');
      return;
    }
    this.senderName.set(friendlyName(senderId));
    // On a page opened at this link, main.ts started the session before the
    // app (ADR 0034): it may be dialling, or past its manifest, already.
    const started = this.env.takeStartedDownload(senderId, fragment);
    const session =
      started ??
      new DownloadSession(
        this.env.createSignaling(),
        senderId,
        link.secret,
        link.fingerprint,
        this.env.createPeerConnection,
        this.env.receiverHash,
      );
    this.session = session;
    const showState = (state: DownloadState) => {
      this.failureCause.set(session.failureCause);
      this.state.set(state);
      const myId = session.myPeerId;
      if (myId) this.myName.set(friendlyName(myId));
    };
    session.on('state', showState);
    session.on('manifest', (files) => this.files.set(files));
    session.on('progress', (list) => {
      this.progress.set(new Map(list.map((p) => [p.fileId, p])));
      for (const p of list) this.settleText(p);
    });
    if (started) {
      // What it reached before this store listened (no download is queued yet).
      if (session.manifest.length > 0) this.files.set([...session.manifest]);
      showState(session.state);
    } else void session.start();
    // Only needed without the File System Access API; registered up front so
    // the click does not wait for it.
    if (!this.env.pickers.showSaveFilePicker) this.streamTarget = this.env.registerStreamTarget();
  }

  toggle(id: number): void {
    const next = new Set(this.selected());
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.selected.set(next);
  }

  /** Must run inside the click handler: the save pickers need the user gesture. */
  async download(entries: readonly FileEntry[]): Promise<void> {
    if (!this.session || entries.length === 0) return;
    this.saveError.set(null);
    try {
      // With pickers, chooseSaveTarget must run before any await (the picker
      // needs the click's user activation); without them nothing needs it.
      const stream = this.streamTarget ? await this.streamTarget : null;
      const target = await chooseSaveTarget(entries, this.env.pickers, stream);
      if (target instanceof ZipSaveTarget) this.archiveName.set(target.archiveName);
      this.session.download(entries, target);
    } catch (error) {
      // The user closing the picker is not an error worth shouting about.
      if (error instanceof DOMException && error.name === 'AbortError') return;
      this.saveError.set(error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Fetches a small text file (a snippet the sender typed or pasted) into
   * memory over the same data channel, to show it on the page with a copy
   * button; it is shown only once its SHA-256 verified.
   */
  showText(entry: FileEntry): void {
    if (!this.session || !isTextSnippet(entry) || this.texts().has(entry.id)) return;
    this.session.download(
      [entry],
      new MemorySaveTarget((_name, blob) => this.pendingTexts.set(entry.id, blob)),
    );
  }

  private settleText(p: FileProgress): void {
    const blob = this.pendingTexts.get(p.fileId);
    if (!blob) return;
    if (p.state === 'failed' || p.state === 'cancelled') this.pendingTexts.delete(p.fileId);
    if (p.state !== 'verified') return;
    this.pendingTexts.delete(p.fileId);
    void blob.text().then((text) => this.texts.set(new Map(this.texts()).set(p.fileId, text)));
  }

  /** Cancels one queued or downloading file; the queue moves on. */
  cancel(id: number): void {
    this.session?.cancel(id);
  }

  /** Cancels every queued file and the one downloading. */
  cancelAll(): void {
    this.session?.cancelAll();
  }
}
