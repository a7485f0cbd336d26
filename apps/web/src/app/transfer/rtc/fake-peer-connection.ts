import { FakeChannel } from './fake-channel';
import { sha256 } from '@noble/hashes/sha2.js';
import { fingerprintToHex } from '../auth/sdp-fingerprint';

let counter = 0;

/** A stand-in for RTCCertificate: its "DER" bytes and their SHA-256. */
export interface FakeCertificate {
  readonly der: Uint8Array;
  readonly fingerprint: Uint8Array;
}

/** A certificate for fake peer connections (`certificates: [cert]`), unique per call. */
export function fakeCertificate(): FakeCertificate {
  counter++;
  const der = new TextEncoder().encode(`fake certificate ${counter}`);
  return { der, fingerprint: sha256(der) };
}

/** The first sha-256 fingerprint line's value, read loosely as an engine's DTLS would. */
function appliedFingerprint(sdp: string): string | undefined {
  return /a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/.exec(sdp)?.[1]?.toUpperCase();
}

/** What a fake's getStats() reports about the selected candidate pair. */
export interface FakePath {
  candidateType: 'host' | 'srflx' | 'relay';
  relayProtocol?: 'udp' | 'tcp' | 'tls';
  rttSeconds?: number;
}

/**
 * An in-memory stand-in for RTCPeerConnection for unit specs. Each instance
 * has its own DTLS fingerprint; two instances "connect" (their channels are
 * linked and opened) only when each holds the other's real fingerprint in its
 * remote description, as DTLS would insist. An SDP whose fingerprint was
 * swapped in transit therefore never connects.
 *
 * Network trouble is set per instance: `networkBlocked` (no candidate pair
 * can work: ICE goes 'failed' once both descriptions are applied, again
 * after every restart), `relayError` (an `icecandidateerror` when gathering,
 * as a TURN server answering 401 causes), and `dropPath()` (the path is lost
 * mid-connection; an ICE restart brings it back unless blocked).
 */
export class FakePeerConnection {
  private static readonly byFingerprint = new Map<string, Set<FakePeerConnection>>();
  /** Uppercase colon hex, as in SDP. */
  readonly fingerprint: string;
  readonly certificate: FakeCertificate;
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  onicecandidate: ((event: { candidate: null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  onicecandidateerror: ((event: { errorCode: number; url: string }) => void) | null = null;
  networkBlocked = false;
  relayError: { errorCode: number; url: string } | null = null;
  path: FakePath = { candidateType: 'host', rttSeconds: 0.004 };
  /** Every offer made: whether it restarted ICE. */
  readonly offers: Array<{ iceRestart: boolean }> = [];
  readonly sctp = {
    maxMessageSize: 262144,
    transport: {
      // What DTLS saw: the certificate of the connection this one is linked to.
      getRemoteCertificates: (): ArrayBuffer[] =>
        this.linkedPeer ? [this.linkedPeer.certificate.der.slice().buffer] : [],
    },
  };
  private linkedPeer: FakePeerConnection | null = null;
  readonly channels = new Map<string, FakeChannel>();
  /** Every SDP this connection was asked to apply as remote. */
  readonly remoteDescriptionsApplied: string[] = [];

  constructor(config: RTCConfiguration = {}) {
    this.certificate =
      (config.certificates?.[0] as unknown as FakeCertificate | undefined) ?? fakeCertificate();
    this.fingerprint = fingerprintToHex(this.certificate.fingerprint);
    // Connections may share a certificate (a sender's, for every receiver).
    const same = FakePeerConnection.byFingerprint.get(this.fingerprint) ?? new Set();
    same.add(this);
    FakePeerConnection.byFingerprint.set(this.fingerprint, same);
  }

  createDataChannel(label: string): FakeChannel {
    const channel = new FakeChannel(label);
    channel.readyState = 'connecting';
    this.channels.set(label, channel);
    return channel;
  }

  async createOffer(options: RTCOfferOptions = {}): Promise<RTCSessionDescriptionInit> {
    this.offers.push({ iceRestart: options.iceRestart === true });
    return { type: 'offer', sdp: this.sdp() };
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: this.sdp() };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    const relayError = this.relayError;
    setImmediate(() => {
      if (relayError) this.onicecandidateerror?.(relayError);
      this.onicecandidate?.({ candidate: null });
    });
    this.maybeConnect();
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = description;
    this.remoteDescriptionsApplied.push(description.sdp ?? '');
    const linked = this.linkedPeer;
    if (linked && description.type === 'answer') {
      // An answer on a linked pair completes an ICE restart: the path comes
      // back unless the network still blocks it.
      const state = this.networkBlocked || linked.networkBlocked ? 'failed' : 'connected';
      setImmediate(() => [this, linked].forEach((pc) => pc.setIceState(state)));
      return;
    }
    this.maybeConnect();
  }

  async addIceCandidate(): Promise<void> {
    // Candidates do not matter in memory.
  }

  setConfiguration(): void {
    // nothing to configure
  }

  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    const stats = new Map<string, Record<string, unknown>>();
    if (this.iceConnectionState !== 'connected') return stats;
    const { candidateType, relayProtocol, rttSeconds } = this.path;
    stats.set('T', { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' });
    stats.set('CP', {
      id: 'CP',
      type: 'candidate-pair',
      state: 'succeeded',
      nominated: true,
      localCandidateId: 'L',
      remoteCandidateId: 'R',
      currentRoundTripTime: rttSeconds,
    });
    stats.set('L', {
      id: 'L',
      type: 'local-candidate',
      candidateType,
      protocol: 'udp',
      ...(relayProtocol ? { relayProtocol } : {}),
    });
    stats.set('R', { id: 'R', type: 'remote-candidate', candidateType: 'host', protocol: 'udp' });
    return stats;
  }

  /** The path is lost on both ends (`state`: how ICE reports it); channels stay open, as SCTP's do. */
  dropPath(state: 'disconnected' | 'failed' = 'failed'): void {
    for (const pc of this.linkedPeer ? [this, this.linkedPeer] : [this]) {
      pc.setIceState(state);
    }
  }

  close(): void {
    this.connectionState = 'closed';
    FakePeerConnection.byFingerprint.get(this.fingerprint)?.delete(this);
    for (const channel of this.channels.values()) channel.close();
  }

  private sdp(): string {
    return [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      `a=fingerprint:sha-256 ${this.fingerprint}`,
      '',
    ].join('\r\n');
  }

  private remoteFingerprint(): string | undefined {
    return this.remoteDescription?.sdp ? appliedFingerprint(this.remoteDescription.sdp) : undefined;
  }

  private setIceState(state: RTCIceConnectionState): void {
    if (this.connectionState === 'closed' || this.iceConnectionState === state) return;
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
    const connection: RTCPeerConnectionState | null =
      state === 'connected' ? 'connected' : state === 'failed' ? 'failed' : null;
    if (connection && this.connectionState !== connection) {
      this.connectionState = connection;
      this.onconnectionstatechange?.();
    }
  }

  private maybeConnect(): void {
    if (this.linkedPeer) return;
    const holders = FakePeerConnection.byFingerprint.get(this.remoteFingerprint() ?? '') ?? [];
    // DTLS connects only when each side holds the other's real fingerprint.
    const peer = [...holders].find(
      (p) => p.remoteFingerprint() === this.fingerprint && p.connectionState !== 'closed',
    );
    if (!peer || !this.localDescription || !peer.localDescription) return;
    if (
      this.connectionState === 'connected' ||
      this.connectionState === 'closed' ||
      peer.connectionState === 'closed'
    )
      return;
    if (this.networkBlocked || peer.networkBlocked) {
      setImmediate(() => {
        for (const pc of [this, peer]) {
          pc.setIceState('checking');
          pc.setIceState('failed');
        }
      });
      return;
    }
    this.linkedPeer = peer;
    peer.linkedPeer = this;
    for (const [label, mine] of this.channels) {
      const theirs = peer.channels.get(label);
      if (!theirs) continue;
      mine.peer = theirs;
      theirs.peer = mine;
    }
    setImmediate(() => {
      for (const pc of [this, peer]) {
        pc.setIceState('connected');
        for (const channel of pc.channels.values()) {
          channel.readyState = 'open';
          channel.dispatch('open', { data: undefined });
        }
      }
    });
  }
}

/** A PeerConnectionFactory for specs that keeps what it made. */
export function fakePeerConnections(
  /** Sets up each new connection (its index counts from 0): to block the network for some. */
  setup: (pc: FakePeerConnection, index: number) => void = () => undefined,
): {
  create: (config?: RTCConfiguration) => RTCPeerConnection;
  made: FakePeerConnection[];
} {
  const made: FakePeerConnection[] = [];
  return {
    made,
    create: (config?: RTCConfiguration) => {
      const pc = new FakePeerConnection(config);
      setup(pc, made.length);
      made.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
  };
}
