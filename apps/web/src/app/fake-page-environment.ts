import { PageEnvironment } from './page-environment';
import { FakeGateway } from './signaling/fake-gateway';
import { SignalingClient } from './signaling/signaling-client';
import { inlineSha256 } from './transfer/hashing/incremental-hash';
import { fakePeerConnections } from './transfer/rtc/fake-peer-connection';
import { PickerWindow } from './transfer/receive/choose-save-target';

/** A page on `https://share.test` whose gateway and peer connections are in memory. */
export class FakePageEnvironment implements PageEnvironment {
  readonly origin = 'https://share.test';
  readonly createPeerConnection = fakePeerConnections().create;
  readonly senderHash = inlineSha256;
  readonly receiverHash = inlineSha256;
  /** Every signaling client the stores made, so a spec can see them. */
  readonly signalingClients: SignalingClient[] = [];
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
