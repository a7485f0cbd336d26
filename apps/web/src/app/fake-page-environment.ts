import { PageEnvironment } from './page-environment';
import { FakeGateway } from './signaling/fake-gateway';
import { SignalingClient } from './signaling/signaling-client';
import { inlineSha256 } from './transfer/hashing/incremental-hash';
import { ShareCertificate } from './transfer/auth/share-certificate';
import { fakeCertificate, fakePeerConnections } from './transfer/rtc/fake-peer-connection';
import { PickerWindow } from './transfer/receive/choose-save-target';
import type { DownloadSession } from './transfer/receive/download-session';

/** A page on `https://share.test` whose gateway and peer connections are in memory. */
export class FakePageEnvironment implements PageEnvironment {
  readonly origin = 'https://share.test';
  /** Set to false for a page opened over plain http at a LAN address. */
  secureContext = true;
  readonly createPeerConnection = fakePeerConnections().create;
  /** The certificate a sender page on this environment shares with. */
  readonly certificate = fakeCertificate();
  readonly senderHash = inlineSha256;
  readonly receiverHash = inlineSha256;
  /** Every signaling client the stores made, so a spec can see them. */
  readonly signalingClients: SignalingClient[] = [];
  /** A session "main.ts started" for a link, for the store to take (takeStartedDownload). */
  startedDownload: { senderId: string; fragment: string; session: DownloadSession } | null = null;
  private readonly pageHideListeners = new Set<() => void>();

  constructor(
    readonly gateway = new FakeGateway(),
    readonly pickers: PickerWindow = {},
  ) {}

  createSignaling(): SignalingClient {
    const client = new SignalingClient('ws://fake/ws', this.gateway.connect);
    this.signalingClients.push(client);
    return client;
  }

  takeStartedDownload(senderId: string, fragment: string): DownloadSession | null {
    const taken = this.startedDownload;
    this.startedDownload = null;
    return taken && taken.senderId === senderId && taken.fragment === fragment
      ? taken.session
      : null;
  }

  async createCertificate(): Promise<ShareCertificate> {
    const { fingerprint } = this.certificate;
    return { certificate: this.certificate as unknown as RTCCertificate, fingerprint };
  }

  async registerStreamTarget(): Promise<null> {
    return null;
  }

  onPageHide(listener: () => void): () => void {
    this.pageHideListeners.add(listener);
    return () => this.pageHideListeners.delete(listener);
  }

  /** As if the tab were closed. */
  hidePage(): void {
    for (const listener of [...this.pageHideListeners]) listener();
  }
}
