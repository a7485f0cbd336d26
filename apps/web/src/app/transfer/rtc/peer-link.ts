import { IceServer, Role, Signal } from '@ephemeral/protocol';
import { Emitter } from '../../events/emitter';
import {
  ConnectionFingerprints,
  constantTimeEqual,
  ShareAuthenticator,
} from '../auth/share-authenticator';
import { derFingerprint, ShareCertificate } from '../auth/share-certificate';
import { SdpFingerprintError, strictDtlsFingerprint } from '../auth/sdp-fingerprint';
import { ConnectFailureCause, ConnectionDiagnostics } from './connection-diagnostics';
import { ConnectionPath, readConnectionPath } from './connection-path';
import { DataChannelLike } from './data-channel';
import { IceRecovery } from './ice-recovery';
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
  /** Read when the link is made: call `freshIceServers()` just before. */
  readonly iceServers: readonly IceServer[];
  sendSignal(to: string, signal: Signal): void;
}

/** Why a link stopped. */
export type LinkFailure =
  /** The remote side is not who it must be: wrong certificate, wrong secret, or a relay in the middle. */
  | 'auth-failed'
  /** ICE found no path even after its restarts, or DTLS broke (connectionState 'failed'). */
  | 'connection-failed'
  /** Not established within the connect timeout. */
  | 'timeout'
  /** The browser would not make or apply a description. */
  | 'negotiation-failed';

type LinkEvents = {
  failed: [LinkFailure];
  /** The offerer sent an ICE-restart offer (the path was lost). */
  iceRestart: [];
};

/**
 * An offer whose fingerprint MAC was verified and whose one fingerprint was
 * read strictly. Only {@link authenticateOffer} makes one, so the answering
 * side cannot apply an offer it did not check.
 */
export interface AuthenticOffer {
  readonly sdp: string;
  readonly receiverFingerprint: Uint8Array;
}

/** The receiver's offer, if its MAC proves the secret for this pair; null otherwise. */
export function authenticateOffer(
  auth: ShareAuthenticator,
  sdp: string,
  mac: Uint8Array,
): AuthenticOffer | null {
  if (!auth.verifySdp(Role.ROLE_RECEIVER, sdp, mac)) return null;
  return { sdp, receiverFingerprint: strictDtlsFingerprint(sdp) };
}

interface CommonOptions {
  signaling: LinkSignaling;
  remotePeerId: string;
  auth: ShareAuthenticator;
  /** Failed with 'timeout' unless {@link PeerLink.established} is called within this. */
  connectTimeoutMs: number;
  createPc?: PeerConnectionFactory;
}

export type PeerLinkOptions = CommonOptions &
  (
    | {
        /** The receiver offers, and accepts only the certificate its link pins. */
        role: Role.ROLE_RECEIVER;
        pinnedFingerprint: Uint8Array;
      }
    | {
        /** The sender answers, with the share's certificate. */
        role: Role.ROLE_SENDER;
        certificate: ShareCertificate;
      }
  );

/**
 * One WebRTC connection to one remote peer, the same for both ends of a
 * transfer: the peer connection and its two pre-negotiated channels, the
 * SDP exchange over the gateway, ICE candidates both ways, a connect
 * timeout, and who is at the other end — the receiver applies only an
 * answer that names exactly the certificate its link pins, and checks the
 * certificate DTLS actually saw where the browser exposes it.
 *
 * A lost path is first restarted on the same connection (ICE restart
 * through the gateway, {@link IceRecovery}).
 *
 * What runs over the channels (TransferClient, TransferServer) and what to
 * do after a failure (the receiver redials, the sender forgets the
 * receiver) belong to the owner. A link is used once.
 */
export class PeerLink extends Emitter<LinkEvents> {
  readonly control: DataChannelLike;
  readonly data: DataChannelLike;
  private readonly pc: RTCPeerConnection;
  private readonly candidates: RemoteCandidates;
  private timer: ReturnType<typeof setTimeout> | null;
  private closed = false;
  private fingerprints: ConnectionFingerprints | null = null;
  private readonly recovery: IceRecovery;
  /** What this connection's ICE saw: why it could not connect, if it could not. */
  readonly diagnostics = new ConnectionDiagnostics();

  constructor(private readonly options: PeerLinkOptions) {
    super();
    const { pc, control, data } = openPeerChannels(
      options.signaling.iceServers,
      options.createPc ?? browserPeerConnection,
      options.role === Role.ROLE_SENDER ? options.certificate.certificate : undefined,
    );
    this.pc = pc;
    this.control = asChannel(control);
    this.data = asChannel(data);
    this.candidates = new RemoteCandidates(pc);
    pc.onicecandidate = (event) => this.send(candidateSignal(event.candidate));
    this.recovery = new IceRecovery({
      restarts: options.role === Role.ROLE_RECEIVER,
      restart: () => void this.restartIce(),
      giveUp: () => this.fail('connection-failed'),
    });
    pc.onicecandidateerror = (event) => this.diagnostics.candidateError(event);
    pc.oniceconnectionstatechange = () => {
      const state = pc.iceConnectionState;
      if (state === 'connected' || state === 'completed') this.diagnostics.iceConnected();
      this.recovery.iceStateChanged(state);
    };
    pc.onconnectionstatechange = () => {
      // ICE failing fails the connection too, and IceRecovery restarts it;
      // DTLS failing cannot be restarted.
      if (pc.connectionState === 'failed' && pc.iceConnectionState !== 'failed')
        this.fail('connection-failed');
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

  /** Why this connection did not come up (or went), from what its ICE saw. */
  get failureCause(): ConnectFailureCause {
    return this.diagnostics.cause;
  }

  /** ICE restarts this end made (the receiver) after the path was lost. */
  get iceRestarts(): number {
    return this.recovery.restartsMade;
  }

  /** Direct or relayed, and the round trip, of the pair ICE selected; null before one is. */
  async connectionPath(): Promise<ConnectionPath | null> {
    if (this.closed) return null;
    try {
      return await readConnectionPath(this.pc);
    } catch {
      return null;
    }
  }

  /** Both ends' fingerprints once the descriptions are applied; null before. */
  get connectionFingerprints(): ConnectionFingerprints | null {
    return this.fingerprints;
  }

  /**
   * Receiver: resolves once it is certain the channels end at the pinned
   * certificate — the answer named it (checked before applying), and the
   * certificate DTLS received hashes to it where the browser tells
   * (RTCDtlsTransport.getRemoteCertificates). Call after the channels opened.
   */
  async verifiedFingerprints(): Promise<ConnectionFingerprints> {
    const fingerprints = this.fingerprints;
    if (!fingerprints || this.closed) throw new Error('the connection is not established');
    const remote = this.pc.sctp?.transport?.getRemoteCertificates?.() ?? [];
    const expected =
      this.options.role === Role.ROLE_RECEIVER
        ? fingerprints.senderFingerprint
        : fingerprints.receiverFingerprint;
    if (remote.length > 0 && !constantTimeEqual(derFingerprint(remote[0]), expected)) {
      this.fail('auth-failed');
      throw new Error('the remote DTLS certificate is not the one negotiated');
    }
    return fingerprints;
  }

  /** Receiver: makes the offer and sends it with its fingerprint MAC (the sender's admission check). */
  async offer(): Promise<void> {
    try {
      const sdp = await this.applyLocal(await this.pc.createOffer());
      if (sdp === null) return;
      this.send({
        payload: {
          $case: 'offer',
          value: { sdp, fingerprintMac: this.options.auth.sdpMac(Role.ROLE_RECEIVER, sdp) },
        },
      });
    } catch {
      this.fail('negotiation-failed');
    }
  }

  /** Sender: applies a verified offer and answers with the share's certificate. */
  async accept(offer: AuthenticOffer): Promise<void> {
    if (this.options.role !== Role.ROLE_SENDER) throw new Error('only the sender answers');
    const own = this.options.certificate.fingerprint;
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      this.candidates.remoteDescriptionSet();
      const sdp = await this.applyLocal(await this.pc.createAnswer());
      if (sdp === null) return;
      // The browser must really answer with the share's certificate, or
      // the link's pin could never match.
      if (!constantTimeEqual(strictDtlsFingerprint(sdp), own)) throw new Error('wrong certificate');
      this.fingerprints = {
        senderFingerprint: own,
        receiverFingerprint: offer.receiverFingerprint,
      };
      this.send({ payload: { $case: 'answer', value: { sdp, fingerprintMac: new Uint8Array() } } });
    } catch {
      this.fail('negotiation-failed');
    }
  }

  /**
   * Sender: answers the receiver's ICE-restart offer on this connection.
   * False (nothing done) unless it comes from the same receiver certificate
   * this connection was set up with — a restart keeps the DTLS association.
   */
  async acceptRestart(offer: AuthenticOffer): Promise<boolean> {
    const fingerprints = this.fingerprints;
    if (this.options.role !== Role.ROLE_SENDER || this.closed || !fingerprints) return false;
    if (!constantTimeEqual(offer.receiverFingerprint, fingerprints.receiverFingerprint))
      return false;
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      const sdp = await this.applyLocal(await this.pc.createAnswer());
      if (sdp === null) return true;
      this.send({ payload: { $case: 'answer', value: { sdp, fingerprintMac: new Uint8Array() } } });
    } catch {
      this.fail('negotiation-failed');
    }
    return true;
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
    const { sdp } = payload.value;
    // Checked before applying: an answer that names any other certificate,
    // or more than one, comes from someone other than the sender.
    let senderFingerprint: Uint8Array;
    try {
      senderFingerprint = strictDtlsFingerprint(sdp);
    } catch (error) {
      if (!(error instanceof SdpFingerprintError)) throw error;
      this.fail('auth-failed');
      return;
    }
    if (!constantTimeEqual(senderFingerprint, this.options.pinnedFingerprint)) {
      this.fail('auth-failed');
      return;
    }
    try {
      // Known before applying: DTLS (and so the sender's challenge) can
      // complete before setRemoteDescription's promise continues here.
      this.fingerprints = {
        senderFingerprint,
        receiverFingerprint: strictDtlsFingerprint(this.pc.localDescription?.sdp ?? ''),
      };
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
    this.recovery.stop();
    this.pc.close();
  }

  /** Receiver: a new offer with fresh ICE credentials, on the same connection and certificates. */
  private async restartIce(): Promise<void> {
    if (this.closed) return;
    try {
      const sdp = await this.applyLocal(await this.pc.createOffer({ iceRestart: true }));
      if (sdp === null) return;
      this.emit('iceRestart');
      this.send({
        payload: {
          $case: 'offer',
          value: {
            sdp,
            fingerprintMac: this.options.auth.sdpMac(Role.ROLE_RECEIVER, sdp),
            iceRestart: true,
          },
        },
      });
    } catch {
      this.fail('negotiation-failed');
    }
  }

  private fail(reason: LinkFailure): void {
    if (this.closed) return;
    // The owner hears why before the connection closes: closing fires the
    // channels' close events, which would otherwise read as a plain drop.
    this.clearTimer();
    this.emit('failed', reason);
    this.close();
  }

  /** Applies `description` locally; the SDP the browser applied, or null once closed. */
  private async applyLocal(description: RTCSessionDescriptionInit): Promise<string | null> {
    await this.pc.setLocalDescription(description);
    if (this.closed) return null;
    return this.pc.localDescription?.sdp ?? description.sdp ?? '';
  }

  private send(signal: Signal): void {
    this.options.signaling.sendSignal(this.options.remotePeerId, signal);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
