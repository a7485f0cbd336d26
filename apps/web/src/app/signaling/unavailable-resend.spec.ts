import {
  MAX_UNAVAILABLE_RESENDS,
  UNAVAILABLE_RESEND_BASE_MS,
  UnavailableResend,
} from './unavailable-resend';

const A = 'peer-a';
const B = 'peer-b';

/** A resender whose sends are recorded by seq (each frame is its seq as one byte). */
function recorded(random = () => 0.5) {
  const sent: number[] = [];
  const resend = new UnavailableResend((bytes) => sent.push(bytes[0]), random);
  const send = (seq: number, to: string) => {
    if (resend.sending(seq, to, new Uint8Array([seq]))) sent.push(seq);
  };
  return { resend, sent, send };
}

describe('UnavailableResend', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resends a shed signal after a jittered pause, and holds later ones to that peer behind it', () => {
    // random 0 → the shortest pause (0.5 × base), 0.999 → the longest.
    for (const [random, pause] of [
      [0, UNAVAILABLE_RESEND_BASE_MS * 0.5],
      [0.999, UNAVAILABLE_RESEND_BASE_MS * 1.499],
    ]) {
      const { resend, sent, send } = recorded(() => random);
      send(1, A);
      send(2, B);
      expect(resend.unavailable(1)).toBe(true);
      send(3, A); // waits behind 1
      send(4, B); // another peer: not held
      expect(sent).toEqual([1, 2, 4]);
      jest.advanceTimersByTime(pause - 1);
      expect(sent).toEqual([1, 2, 4]);
      jest.advanceTimersByTime(1);
      expect(sent).toEqual([1, 2, 4, 1, 3]);
      // Once released, the peer's signals go at once again.
      send(5, A);
      expect(sent).toEqual([1, 2, 4, 1, 3, 5]);
      resend.dispose();
    }
  });

  it('keeps first-sent order when a signal sent after the shed one is shed too', () => {
    const { resend, sent, send } = recorded();
    send(1, A);
    send(2, A);
    send(3, A);
    expect(resend.unavailable(3)).toBe(true);
    expect(resend.unavailable(1)).toBe(true);
    jest.advanceTimersByTime(UNAVAILABLE_RESEND_BASE_MS);
    // 2 was routed: it is not sent twice.
    expect(sent).toEqual([1, 2, 3, 1, 3]);
    resend.dispose();
  });

  it('doubles the pause per resend and gives a signal up after its resends', () => {
    const { resend, sent, send } = recorded(() => 0.5); // factor 1.0
    send(7, A);
    for (let resent = 1; resent <= MAX_UNAVAILABLE_RESENDS; resent++) {
      expect(resend.unavailable(7)).toBe(true);
      const pause = UNAVAILABLE_RESEND_BASE_MS * 2 ** (resent - 1);
      jest.advanceTimersByTime(pause - 1);
      expect(sent).toHaveLength(resent);
      jest.advanceTimersByTime(1);
      expect(sent).toHaveLength(resent + 1);
    }
    // Spent: the error is the caller's now, and nothing more is sent.
    expect(resend.unavailable(7)).toBe(false);
    jest.runAllTimers();
    expect(sent).toEqual(Array(MAX_UNAVAILABLE_RESENDS + 1).fill(7));
  });

  it('does not claim a seq it never sent, and sends nothing after dispose', () => {
    const { resend, sent, send } = recorded();
    expect(resend.unavailable(42)).toBe(false);
    send(1, A);
    expect(resend.unavailable(1)).toBe(true);
    resend.dispose();
    jest.runAllTimers();
    expect(sent).toEqual([1]);
  });

  it('forgets the oldest signals beyond its bound', () => {
    const { resend, send } = recorded();
    for (let seq = 1; seq <= 300; seq++) send(seq, A);
    expect(resend.unavailable(1)).toBe(false);
    expect(resend.unavailable(300)).toBe(true);
    resend.dispose();
  });
});
