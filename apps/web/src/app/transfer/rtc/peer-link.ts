import { IceServer, Role, Signal } from '@ephemeral/protocol';
import { Emitter } from '../../events/emitter';
import { ShareAuthenticator } from '../auth/share-authenticator';
import { DataChannelLike } from './data-channel';
import {
  asChannel,
  browserPeerConnection,
  candidateSignal,
  maxMessageSize,
  openPeerChannels,
  PeerConnectionFactory,
  RemoteCandidates,
} from './peer-connection';

/** The part of the signaling client a link needs: where to send, which ICE servers. */
export interface LinkSignaling {
  readonly iceServers: readonly IceServer[];
  sendSignal(to: string, signal: Signal): void;
}

/** Why a link stopped before (or after) it was established. */
export type LinkFailure =
  /** The remote SDP's fingerprint MAC did not verify: wrong secret, or a relay in the middle. */
  | 'auth-failed'
  /** ICE found no path, or DTLS broke (connectionState 'failed'). */
  | 'connection-failed'
  /** Not established within the connect timeout. */
  | 'timeout'
  /** The browser would not make or apply a description. */
  | 'negotiation-failed';

type LinkEvents = { failed: [LinkFailure] };

/**
 * An offer whose fingerprint MAC was verified. Only {@link authenticateOffer}
 * makes one, so the answering side cannot apply an offer it did not check.
 */
export interface AuthenticOffer {
  readonly sdp: string;
  readonly verified: true;
}

/** The receiver's offer, if its MAC proves the secret for this pair; null otherwise. */
export function authenticateOffer(
  auth: ShareAuthenticator,
  sdp: string,
  mac: Uint8Array,
): AuthenticOffer | null {
  return auth.verifySdp(Role.ROLE_RECEIVER, sdp, mac) ? { sdp, verified: true } : null;
}

export interface PeerLinkOptions {
  signaling: LinkSignaling;
  remotePeerId: string;
  auth: ShareAuthenticator;
  /** The receiver offers; the sender answers. */
  role: Role.ROLE_RECEIVER | Role.ROLE_SENDER;
  /** Failed with 'timeout' unless {@link PeerLink.established} is called within this. */
  connectTimeoutMs: number;
  createPc?: PeerConnectionFactory;
}

/**
 * One WebRTC connection to one remote peer, the same for both ends of a
 * transfer: the peer connection and its two pre-negotiated channels, the
 * authenticated SDP exchange over the gateway, ICE candidates both ways, and
 * a connect timeout. What runs over the channels (TransferClient,
 * TransferServer) and what to do after a failure (the receiver redials, the
 * sender forgets the receiver) belong to the owner.
 *
 * A link is used once: after `failed` or `close()` the owner makes a new one.
 */
export class PeerLink extends Emitter<LinkEvents> {
  readonly control: DataChannelLike;
  readonly data: DataChannelLike;
  private readonly pc: RTCPeerConnection;
  private readonly candidates: RemoteCandidates;
  private timer: ReturnType<typeof setTimeout> | null;
  private closed = false;

  constructor(private readonly options: PeerLinkOptions) {
    super();
    const { pc, control, data } = openPeerChannels(
      options.signaling.iceServers,
      options.createPc ?? browserPeerConnection,
    );
    this.pc = pc;
    this.control = asChannel(control);
    this.data = asChannel(data);
    this.candidates = new RemoteCandidates(pc);
    pc.onicecandidate = (event) => this.send(candidateSignal(event.candidate));
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.fail('connection-failed');
    };
    this.timer = setTimeout(() => this.fail('timeout'), options.connectTimeoutMs);
  }

  get remotePeerId(): string {
    return this.options.remotePeerId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The largest data message this connection's SCTP transport accepts, once known. */
  get maxMessageSize(): number | null {
    return maxMessageSize(this.pc);
  }

  /** Receiver: makes the offer and sends it with its fingerprint MAC. */
  async offer(): Promise<void> {
    try {
      await this.sendLocalDescription('offer', await this.pc.createOffer());
    } catch {
      this.fail('negotiation-failed');
    }
  }

  /** Sender: applies a verified offer and sends the answer with its fingerprint MAC. */
  async accept(offer: AuthenticOffer): Promise<void> {
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      this.candidates.remoteDescriptionSet();
      await this.sendLocalDescription('answer', await this.pc.createAnswer());
    } catch {
      this.fail('negotiation-failed');
    }
  }

  /** A signal from the remote peer: an answer (receiver) or an ICE candidate (both). */
  async handleSignal(signal: Signal): Promise<void> {
    const payload = signal.payload;
    if (this.closed || !payload) return;
    if (payload.$case === 'candidate') {
      this.candidates.add(payload.value);
      return;
    }
    if (payload.$case !== 'answer' || this.options.role !== Role.ROLE_RECEIVER) return;
    // Verify before applying: a swapped fingerprint means someone on the
    // signaling path is trying to sit in the middle.
    const { sdp, fingerprintMac } = payload.value;
    if (!this.options.auth.verifySdp(Role.ROLE_SENDER, sdp, fingerprintMac)) {
      this.fail('auth-failed');
      return;
    }
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      this.candidates.remoteDescriptionSet();
    } catch {
      this.fail('negotiation-failed');
    }
  }

  /** The owner's handshake over the channels finished: stop the connect timeout. */
  established(): void {
    this.clearTimer();
  }

  /** Tells the remote peer why this end is going (the link stays usable until close). */
  sendBye(reason: string): void {
    this.send({ payload: { $case: 'bye', value: { reason } } });
  }

  /** Closes the connection; no `failed` follows. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.pc.close();
  }

  private fail(reason: LinkFailure): void {
    if (this.closed) return;
    // The owner hears why before the connection closes: closing fires the
    // channels' close events, which would otherwise read as a plain drop.
    this.clearTimer();
    this.emit('failed', reason);
    this.close();
  }

  /** Applies `description` locally and sends what the browser applied, with its MAC. */
  private async sendLocalDescription(
    kind: 'offer' | 'answer',
    description: RTCSessionDescriptionInit,
  ): Promise<void> {
    await this.pc.setLocalDescription(description);
    if (this.closed) return;
    const sdp = this.pc.localDescription?.sdp ?? description.sdp ?? '';
    const value = { sdp, fingerprintMac: this.options.auth.sdpMac(this.options.role, sdp) };
    this.send({
      payload: kind === 'offer' ? { $case: 'offer', value } : { $case: 'answer', value },
    });
  }

  private send(signal: Signal): void {
    this.options.signaling.sendSignal(this.options.remotePeerId, signal);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
