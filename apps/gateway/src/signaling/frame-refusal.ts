import type { ErrorCode, SignalKind } from '@ephemeral/protocol';

/** Why a client frame was not acted on; becomes an Error frame and a log line. */
export interface FrameRefusal {
  code: ErrorCode;
  /** Human-readable; never contains a token or SDP. */
  message: string;
  /** ClientFrame.seq of the refused frame (0 when unknown). */
  seq: number;
  signalKind?: SignalKind;
  peerId?: string;
}
