import { DestroyRef, inject, Injectable, signal } from '@angular/core';
import { FileEntry, TransferResult } from '@ephemeral/protocol';
import { watchConnection } from '../connection/watch-connection';
import { PAGE_ENVIRONMENT } from '../page-environment';
import type { SignalingState } from '../signaling/signaling-client';
import { shareLink } from '../share/share-link';
import { formatLinkFragment } from '../transfer/auth/link-fragment';
import { generateSecret, secretBytes } from '../transfer/auth/share-secret';
import { ConnectionPath } from '../transfer/rtc/connection-path';
import { ReceiverStatus } from '../transfer/send/served-receiver';
import { PickedFile, ShareHost } from '../transfer/send/share-host';
import { friendlyName } from '../share/friendly-name';
import { notificationsGranted, notify } from '../share/notify';
import { ReceiverSpeeds } from './receiver-speed';

/** What the sender's receiver panel shows of one receiver. */
export interface ReceiverView {
  status: ReceiverStatus;
  /** The friendly name the receiver's own page shows too. */
  name: string;
  /** Bytes per second of the file being sent; null while unknown. */
  speed: number | null;
  /** It has every file now shared, and is not downloading. */
  finished: boolean;
}

const GONE: readonly string[] = ['left', 'rejected', 'failed'];

/** A file's identity for "the same file added twice": where it goes, how big, when changed. */
function fileKey(path: string, size: number, lastModified: number): string {
  return `${path}\u0000${size}\u0000${lastModified}`;
}

// Time for the gateway to relay the Byes of a stopped share (a round trip
// and a presence lookup) before its socket closes.
const BYE_GRACE_MS = 1_000;

/** The sender page's state: wraps ShareHost in signals. */
@Injectable()
export class ShareStore {
  readonly link = signal<string | null>(null);
  readonly files = signal<FileEntry[]>([]);
  readonly receivers = signal<ReceiverStatus[]>([]);
  readonly receiverViews = signal<ReceiverView[]>([]);
  /** The last milestone to announce (a receiver connected or finished). */
  readonly announcement = signal('');
  /** Browser notifications for receivers connecting and finishing (the person opted in). */
  readonly notifications = signal(notificationsGranted());
  /** The gateway gave up on us (or gave us a new ID): the link is dead. */
  readonly lost = signal(false);
  /** The gateway connection: 'reconnecting' while the server cannot be reached. */
  readonly server = signal<SignalingState>('connecting');
  /** Files were added at least once: the link has been handed out (ADR 0013). */
  readonly started = signal(false);
  /** The sender ended the share: the link no longer works. */
  readonly stopped = signal(false);

  /** Each connected receiver's path (direct or relayed, round trip), by peer ID. */
  readonly paths = watchConnection(
    () => this.host.connectionPaths(),
    new Map<string, ConnectionPath>(),
    inject(DestroyRef),
  );

  private readonly env = inject(PAGE_ENVIRONMENT);
  private readonly speeds = new ReceiverSpeeds();
  private readonly signaling = this.env.createSignaling();
  // Made here, in the browser; only ever put in the link's fragment.
  private readonly secret = generateSecret();
  private readonly certificate = this.env.createCertificate();
  private readonly host = new ShareHost(
    this.signaling,
    secretBytes(this.secret),
    this.certificate,
    this.env.createPeerConnection,
    this.env.senderHash,
  );

  constructor() {
    this.host.on('files', (files) => this.files.set(files.map((f) => f.entry)));
    this.host.on('receivers', (receivers) => this.onReceivers(receivers));
    this.signaling.on('lost', () => this.lost.set(true));
    this.signaling.on('state', (state) => this.server.set(state));
    // The link exists once the gateway named this page and the certificate
    // it pins exists.
    Promise.all([this.signaling.connect(), this.certificate])
      .then(([welcome, { fingerprint }]) =>
        this.link.set(
          shareLink(this.env.origin, welcome.peerId, formatLinkFragment(this.secret, fingerprint)),
        ),
      )
      .catch(() => this.lost.set(true));
    const stopListening = this.env.onPageHide(() => this.stop());
    inject(DestroyRef).onDestroy(() => {
      stopListening();
      this.stop();
    });
  }

  /** Adds picked or dropped files; one already shared (same path, size and date) is skipped. */
  add(files: PickedFile[]): void {
    if (files.length === 0 || this.stopped()) return;
    const shared = new Set(
      this.files().map((f) => fileKey(f.relativePath, f.size, f.lastModifiedUnixMs)),
    );
    const fresh = files.filter((picked) => {
      const key = fileKey(
        picked.relativePath || picked.file.name,
        picked.file.size,
        picked.file.lastModified,
      );
      if (shared.has(key)) return false;
      shared.add(key);
      return true;
    });
    if (fresh.length === 0) return;
    this.host.addFiles(fresh);
    this.started.set(true);
  }

  /**
   * Ends the share for everyone: receivers are told the sender left (their
   * verified files stay), the gateway forgets this page's ID, and the link
   * stops working. Removing every file does not do this (ADR 0013).
   */
  stopSharing(): void {
    if (this.stopped()) return;
    this.stopped.set(true);
    this.link.set(null);
    this.host.close();
    // The gateway drops frames still queued behind a socket's close, so the
    // socket (and with it the lease) goes only once the Byes had time to
    // be relayed; receivers then hear at once instead of after the TTL.
    setTimeout(() => this.signaling.close(), BYE_GRACE_MS);
  }

  remove(id: number): void {
    this.host.removeFile(id);
  }

  private onReceivers(receivers: ReceiverStatus[]): void {
    const total = this.files().length;
    const previous = new Map(this.receiverViews().map((v) => [v.status.peerId, v]));
    const views = receivers.map((status): ReceiverView => {
      if (GONE.includes(status.state)) this.speeds.forget(status.peerId);
      return {
        status,
        name: friendlyName(status.peerId),
        speed: this.speeds.speedOf(status),
        finished:
          total > 0 &&
          status.filesCompleted >= total &&
          (status.state === 'idle' || status.state === 'connected'),
      };
    });
    for (const view of views) {
      const before = previous.get(view.status.peerId);
      const wasUp = before !== undefined && before.status.state !== 'connecting';
      const isUp = !GONE.includes(view.status.state) && view.status.state !== 'connecting';
      const name = view.name;
      if (!wasUp && isUp)
        this.say(
          $localize`:@@send.announce.connected:${name}:NAME: connected.`,
          $localize`:@@send.notify.connected:A receiver connected`,
        );
      if (view.finished && !before?.finished)
        this.say(
          $localize`:@@send.announce.finished:${name}:NAME: has every file.`,
          $localize`:@@send.notify.finished:A receiver finished`,
        );
      if (GONE.includes(view.status.state) && before && !GONE.includes(before.status.state))
        this.say($localize`:@@send.announce.left:${name}:NAME: left.`, null);
      this.reportEnd(view, before);
    }
    this.receivers.set(receivers);
    this.receiverViews.set(views);
  }

  /** For the gateway's audit trail: a receiver got every file, or went before it had them. */
  private reportEnd(view: ReceiverView, before: ReceiverView | undefined): void {
    const { peerId, state, filesCompleted } = view.status;
    if (view.finished && !before?.finished) {
      const files = this.files();
      this.signaling.reportTransfer({
        receiverPeerId: peerId,
        result: TransferResult.TRANSFER_RESULT_FINISHED,
        fileCount: files.length,
        byteCount: files.reduce((sum, file) => sum + file.size, 0),
        failureReason: '',
        fileNames: [],
      });
    } else if (
      GONE.includes(state) &&
      before &&
      !GONE.includes(before.status.state) &&
      !before.finished
    ) {
      // Which files it got is not tracked here, only how many: no bytes.
      this.signaling.reportTransfer({
        receiverPeerId: peerId,
        result: TransferResult.TRANSFER_RESULT_FAILED,
        fileCount: filesCompleted,
        byteCount: 0,
        failureReason: state,
        fileNames: [],
      });
    }
  }

  private say(text: string, notification: string | null): void {
    this.announcement.set(text);
    if (notification && this.notifications()) notify(notification, text);
  }

  private stop(): void {
    this.host.close();
    this.signaling.close();
  }
}
