import { DataChannelLike } from './data-channel';

type Listener = (event: { data: unknown }) => void;

/**
 * An in-memory stand-in for RTCDataChannel for unit specs. Linked pairs
 * deliver each sent message to the other end on a later macrotask, in order.
 * `bufferedAmount` grows with every send and drains when `drain()` is called,
 * so specs control backpressure explicitly (autoDrain drains after delivery).
 */
export class FakeChannel implements DataChannelLike {
  readyState: RTCDataChannelState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType: BinaryType = 'arraybuffer';
  peer: FakeChannel | null = null;
  autoDrain = true;
  readonly sent: Uint8Array[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(readonly label: string) {}

  static pair(label: string): [FakeChannel, FakeChannel] {
    const a = new FakeChannel(label);
    const b = new FakeChannel(label);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: channel not open');
    const copy = data.slice();
    this.sent.push(copy);
    this.bufferedAmount += copy.length;
    const peer = this.peer;
    setImmediate(() => {
      if (peer && peer.readyState === 'open') peer.dispatch('message', { data: copy.buffer });
      if (this.autoDrain) this.drain(copy.length);
    });
  }

  /** Removes `bytes` (default: all) from the send buffer, firing bufferedamountlow on crossing the threshold. */
  drain(bytes = this.bufferedAmount): void {
    const before = this.bufferedAmount;
    this.bufferedAmount = Math.max(0, before - bytes);
    if (
      before > this.bufferedAmountLowThreshold &&
      this.bufferedAmount <= this.bufferedAmountLowThreshold
    ) {
      this.dispatch('bufferedamountlow', { data: undefined });
    }
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.dispatch('close', { data: undefined });
    const peer = this.peer;
    if (peer && peer.readyState !== 'closed') setImmediate(() => peer.close());
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  dispatch(type: string, event: { data: unknown }): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }
}
