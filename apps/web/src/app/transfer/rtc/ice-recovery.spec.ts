import { IceRecovery } from './ice-recovery';

describe('IceRecovery', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function offerer() {
    const calls = { restarts: 0, gaveUp: 0 };
    const recovery = new IceRecovery({
      restarts: true,
      restart: () => calls.restarts++,
      giveUp: () => calls.gaveUp++,
      attempts: 2,
      graceMs: 3000,
      restartTimeoutMs: 10_000,
    });
    return { recovery, calls };
  }

  it('waits out a short disconnection without restarting', () => {
    const { recovery, calls } = offerer();
    recovery.iceStateChanged('disconnected');
    jest.advanceTimersByTime(2999);
    recovery.iceStateChanged('connected');
    jest.advanceTimersByTime(60_000);
    expect(calls).toEqual({ restarts: 0, gaveUp: 0 });
  });

  it('restarts after the grace period, and a recovered path gets every attempt again', () => {
    const { recovery, calls } = offerer();
    recovery.iceStateChanged('disconnected');
    jest.advanceTimersByTime(3000);
    expect(calls.restarts).toBe(1);
    recovery.iceStateChanged('connected');
    recovery.iceStateChanged('failed');
    recovery.iceStateChanged('failed');
    expect(calls).toEqual({ restarts: 3, gaveUp: 0 });
  });

  it('restarts at once on failed, a bounded number of times, then gives up', () => {
    const { recovery, calls } = offerer();
    recovery.iceStateChanged('failed');
    expect(calls.restarts).toBe(1);
    // The restart's checks fail too: the next restart at once.
    recovery.iceStateChanged('checking');
    recovery.iceStateChanged('failed');
    expect(calls.restarts).toBe(2);
    recovery.iceStateChanged('checking');
    recovery.iceStateChanged('failed');
    expect(calls).toEqual({ restarts: 2, gaveUp: 1 });
  });

  it('gives up when restarts never finish (no answer): bounded in time', () => {
    const { recovery, calls } = offerer();
    recovery.iceStateChanged('failed');
    jest.advanceTimersByTime(10_000);
    expect(calls.restarts).toBe(2);
    jest.advanceTimersByTime(10_000);
    expect(calls).toEqual({ restarts: 2, gaveUp: 1 });
  });

  it('the answerer never restarts; it waits as long as the offerer can take, then gives up', () => {
    const calls = { restarts: 0, gaveUp: 0 };
    const recovery = new IceRecovery({
      restarts: false,
      restart: () => calls.restarts++,
      giveUp: () => calls.gaveUp++,
    });
    recovery.iceStateChanged('failed');
    // Each failed restart reports 'failed' again; the wait runs on from the first.
    jest.advanceTimersByTime(recovery.answererPatienceMs - 1);
    recovery.iceStateChanged('checking');
    recovery.iceStateChanged('failed');
    expect(calls.gaveUp).toBe(0);
    jest.advanceTimersByTime(1);
    expect(calls).toEqual({ restarts: 0, gaveUp: 1 });
  });

  it('does nothing once stopped', () => {
    const { recovery, calls } = offerer();
    recovery.stop();
    recovery.iceStateChanged('failed');
    jest.advanceTimersByTime(60_000);
    expect(calls).toEqual({ restarts: 0, gaveUp: 0 });
  });
});
