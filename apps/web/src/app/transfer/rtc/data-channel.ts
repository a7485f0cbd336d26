/**
 * The part of RTCDataChannel the engine uses; a real RTCDataChannel satisfies
 * it, and unit specs pass small fakes.
 */
export interface DataChannelLike {
  readonly label: string;
  readonly readyState: RTCDataChannelState;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: BinaryType;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'bufferedamountlow',
    listener: () => void,
  ): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(
    type: 'open' | 'close' | 'error' | 'bufferedamountlow',
    listener: () => void,
  ): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** The channel closed while something waited on it. */
export class ChannelClosedError extends Error {
  constructor(label: string) {
    super(`data channel "${label}" closed`);
    this.name = 'ChannelClosedError';
  }
}

/** Message data as bytes (Chromium delivers ArrayBuffer with binaryType arraybuffer). */
export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
