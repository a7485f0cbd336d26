import { DestroyRef, inject, Injectable, signal } from '@angular/core';
import { FileEntry } from '@ephemeral/protocol';
import { watchConnection } from '../connection/watch-connection';
import { PAGE_ENVIRONMENT } from '../page-environment';
import type { SignalingState } from '../signaling/signaling-client';
import { shareLink } from '../share/share-link';
import { formatLinkFragment } from '../transfer/auth/link-fragment';
import { generateSecret, secretBytes } from '../transfer/auth/share-secret';
import { ConnectionPath } from '../transfer/rtc/connection-path';
import { ReceiverStatus } from '../transfer/send/served-receiver';
import { PickedFile, ShareHost } from '../transfer/send/share-host';

// Time for the gateway to relay the Byes of a stopped share (a round trip
// and a presence lookup) before its socket closes.
const BYE_GRACE_MS = 1_000;

/** The sender page's state: wraps ShareHost in signals. */
@Injectable()
export class ShareStore {
  readonly link = signal<string | null>(null);
  readonly files = signal<FileEntry[]>([]);
  readonly receivers = signal<ReceiverStatus[]>([]);
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
    this.host.on('receivers', (receivers) => this.receivers.set(receivers));
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

  add(files: PickedFile[]): void {
    if (files.length === 0 || this.stopped()) return;
    this.host.addFiles(files);
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

  private stop(): void {
    this.host.close();
    this.signaling.close();
  }
}
