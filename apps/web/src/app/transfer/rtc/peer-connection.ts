import { IceServer, Signal } from '@ephemeral/protocol';
import { DataChannelLike } from './data-channel';

// Both channels are pre-negotiated with fixed stream IDs, so each side creates
// them itself and there is no race with ondatachannel. Both are ordered and
// reliable: chunk offsets are implicit and resume relies on that order.
const CONTROL_CHANNEL_ID = 0;
const DATA_CHANNEL_ID = 1;

export interface PeerChannels {
  pc: RTCPeerConnection;
  control: RTCDataChannel;
  data: RTCDataChannel;
}

export type PeerConnectionFactory = (config: RTCConfiguration) => RTCPeerConnection;

export const browserPeerConnection: PeerConnectionFactory = (config) =>
  new RTCPeerConnection(config);

export function openPeerChannels(
  iceServers: readonly IceServer[],
  create: PeerConnectionFactory = browserPeerConnection,
  /** The sender's share certificate; a receiver lets the browser make one. */
  certificate?: RTCCertificate,
): PeerChannels {
  const pc = create({
    iceServers: toRtcIceServers(iceServers),
    ...(certificate ? { certificates: [certificate] } : {}),
  });
  const control = pc.createDataChannel('control', {
    negotiated: true,
    id: CONTROL_CHANNEL_ID,
    ordered: true,
  });
  const data = pc.createDataChannel('data', {
    negotiated: true,
    id: DATA_CHANNEL_ID,
    ordered: true,
  });
  control.binaryType = 'arraybuffer';
  data.binaryType = 'arraybuffer';
  return { pc, control, data };
}

export function toRtcIceServers(servers: readonly IceServer[]): RTCIceServer[] {
  return servers
    .filter((s) => s.urls.length > 0)
    .map((s) =>
      s.username
        ? { urls: [...s.urls], username: s.username, credential: s.credential }
        : { urls: [...s.urls] },
    );
}

/** The channel as the engine sees it (RTCDataChannel fits DataChannelLike). */
export function asChannel(channel: RTCDataChannel): DataChannelLike {
  return channel as unknown as DataChannelLike;
}

/** The largest message this connection's SCTP transport accepts, when known. */
export function maxMessageSize(pc: RTCPeerConnection): number | null {
  return pc.sctp?.maxMessageSize ?? null;
}

export function candidateSignal(candidate: RTCIceCandidate | null): Signal {
  return {
    payload: {
      $case: 'candidate',
      value: candidate
        ? {
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid ?? '',
            sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
            usernameFragment: candidate.usernameFragment ?? '',
          }
        : { candidate: '', sdpMid: '', sdpMLineIndex: undefined, usernameFragment: '' },
    },
  };
}

/**
 * Remote ICE candidates that arrive (in order, through the gateway) while the
 * remote description is still being applied; added once it is set.
 */
export class RemoteCandidates {
  private pending: RTCIceCandidateInit[] = [];
  private ready = false;

  constructor(private readonly pc: RTCPeerConnection) {}

  add(signal: Extract<Signal['payload'], { $case: 'candidate' }>['value']): void {
    // An empty candidate is the end-of-candidates marker.
    if (!signal.candidate) return;
    const init: RTCIceCandidateInit = {
      candidate: signal.candidate,
      sdpMid: signal.sdpMid || null,
      sdpMLineIndex: signal.sdpMLineIndex ?? null,
      usernameFragment: signal.usernameFragment || null,
    };
    if (this.ready) void this.pc.addIceCandidate(init).catch(() => undefined);
    else if (this.pending.length < 64) this.pending.push(init);
  }

  /** Call after setRemoteDescription succeeded. */
  remoteDescriptionSet(): void {
    this.ready = true;
    for (const init of this.pending) void this.pc.addIceCandidate(init).catch(() => undefined);
    this.pending = [];
  }
}
