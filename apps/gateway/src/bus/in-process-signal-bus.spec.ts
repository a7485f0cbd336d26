import type { SignalRecord } from '@ephemeral/protocol';

import { InProcessSignalBus } from './in-process-signal-bus';
import { SignalBusUnavailableError } from './signal-bus';

const record = (n: number): SignalRecord => ({
  to: 'b',
  from: 'a',
  signal: { payload: { $case: 'bye', value: { reason: String(n) } } },
  originGatewayId: 'gw',
  sentAtUnixMs: n,
  slotToken: 0,
  hops: 0,
  undeliverable: 0,
  senderSeq: n,
});

describe('InProcessSignalBus', () => {
  it('delivers published records to the handler in order once started', async () => {
    const bus = new InProcessSignalBus();
    const seen: number[] = [];
    bus.subscribe((r) => {
      seen.push(r.sentAtUnixMs);
      return true;
    });
    expect(bus.ready).toBe(false);
    await bus.start();
    expect(bus.ready).toBe(true);
    for (let n = 1; n <= 5; n++) await bus.publish(record(n));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('rejects publish when stopped', async () => {
    const bus = new InProcessSignalBus();
    await expect(bus.publish(record(1))).rejects.toThrow(SignalBusUnavailableError);
    await bus.start();
    await bus.stop();
    expect(bus.ready).toBe(false);
    await expect(bus.publish(record(1))).rejects.toThrow(SignalBusUnavailableError);
  });
});
