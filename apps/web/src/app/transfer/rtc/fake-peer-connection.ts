import { FakeChannel } from './fake-channel';
import { dtlsFingerprints } from '../auth/share-authenticator';

let counter = 0;

/**
 * An in-memory stand-in for RTCPeerConnection for unit specs. Each instance
 * has its own DTLS fingerprint; two instances "connect" (their channels are
 * linked and opened) only when each holds the other's real fingerprint in its
 * remote description, as DTLS would insist. An SDP whose fingerprint was
 * swapped in transit therefore never connects.
 */
export class FakePeerConnection {
  private static readonly byFingerprint = new Map<string, FakePeerConnection>();
  readonly fingerprint: string;
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  onicecandidate: ((event: { candidate: null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  readonly sctp = { maxMessageSize: 262144 };
  readonly channels = new Map<string, FakeChannel>();
  /** Every SDP this connection was asked to apply as remote. */
  readonly remoteDescriptionsApplied: string[] = [];

  constructor() {
    counter++;
    const hex = counter.toString(16).padStart(64, '0').toUpperCase();
    this.fingerprint = `sha-256 ${(hex.match(/../g) ?? []).join(':')}`;
    FakePeerConnection.byFingerprint.set(this.fingerprint, this);
  }

  createDataChannel(label: string): FakeChannel {
    const channel = new FakeChannel(label);
    channel.readyState = 'connecting';
    this.channels.set(label, channel);
    return channel;
  }

  async createOffer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'offer', sdp: this.sdp() };
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: this.sdp() };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    setImmediate(() => this.onicecandidate?.({ candidate: null }));
    this.maybeConnect();
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = description;
    this.remoteDescriptionsApplied.push(description.sdp ?? '');
    this.maybeConnect();
  }

  async addIceCandidate(): Promise<void> {
    // Candidates do not matter in memory.
  }

  setConfiguration(): void {
    // nothing to configure
  }

  close(): void {
    this.connectionState = 'closed';
    for (const channel of this.channels.values()) channel.close();
  }

  private sdp(): string {
    return [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      `a=fingerprint:${this.fingerprint}`,
      '',
    ].join('\r\n');
  }

  private remoteFingerprint(): string | undefined {
    return this.remoteDescription?.sdp
      ? dtlsFingerprints(this.remoteDescription.sdp)[0]
      : undefined;
  }

  private maybeConnect(): void {
    const peer = FakePeerConnection.byFingerprint.get(this.remoteFingerprint() ?? '');
    if (
      !peer ||
      !this.localDescription ||
      !peer.localDescription ||
      peer.remoteFingerprint() !== this.fingerprint
    )
      return;
    if (
      this.connectionState === 'connected' ||
      this.connectionState === 'closed' ||
      peer.connectionState === 'closed'
    )
      return;
    for (const [label, mine] of this.channels) {
      const theirs = peer.channels.get(label);
      if (!theirs) continue;
      mine.peer = theirs;
      theirs.peer = mine;
    }
    setImmediate(() => {
      for (const pc of [this, peer]) {
        pc.connectionState = 'connected';
        pc.onconnectionstatechange?.();
        for (const channel of pc.channels.values()) {
          channel.readyState = 'open';
          channel.dispatch('open', { data: undefined });
        }
      }
    });
  }
}

/** A PeerConnectionFactory for specs that keeps what it made. */
export function fakePeerConnections(): {
  create: () => RTCPeerConnection;
  made: FakePeerConnection[];
} {
  const made: FakePeerConnection[] = [];
  return {
    made,
    create: () => {
      const pc = new FakePeerConnection();
      made.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
  };
}
