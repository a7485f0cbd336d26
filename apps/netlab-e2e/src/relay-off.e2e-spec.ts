import { FAILURE_WITHIN_MS, receiverFailure } from './failure-screen';
import { labSuite } from './lab-suite';

describe('netlab: no relay in the gateway config (no TURN_*) and UDP blocked', () => {
  const suite = labSuite('off');

  it('the receiver ends on "could not connect" because the network blocks peer connections, in bounded time', async () => {
    await suite.lab.mode('block-udp');
    const { receiver, cause, afterMs } = await receiverFailure(suite);
    expect(cause).toBe('network-blocked');
    expect(afterMs).toBeLessThan(FAILURE_WITHIN_MS);
    // No spinner left behind the failure: the page says so in words.
    const text = await receiver.evaluate(
      () => document.querySelector('[data-testid=connect-failure]')?.textContent ?? '',
    );
    expect(text).toMatch(/block/i);
  });
});
