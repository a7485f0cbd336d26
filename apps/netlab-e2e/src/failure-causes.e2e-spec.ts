import { FAILURE_WITHIN_MS, receiverFailure } from './failure-screen';
import { labSuite } from './lab-suite';

describe('netlab: a receiver that cannot connect says why, in bounded time', () => {
  // The gateway starts with no TURN_* at all (STUN only).
  const suite = labSuite('off');

  it('no relay configured and UDP blocked: "could not connect", the network blocks peer connections', async () => {
    await suite.lab.mode('block-udp');
    const { receiver, cause, afterMs } = await receiverFailure(suite);
    expect(cause).toBe('network-blocked');
    expect(afterMs).toBeLessThan(FAILURE_WITHIN_MS);
    const text = await receiver.evaluate(
      () => document.querySelector('[data-testid=connect-failure]')?.textContent ?? '',
    );
    expect(text).toMatch(/block/i);
  });

  it('a TURN secret coturn does not share: "could not connect", the server\'s relay refused it', async () => {
    await suite.restartStack('wrong-secret');
    // Symmetric NATs on both sides: without the relay there is no path.
    const { receiver, cause, afterMs } = await receiverFailure(suite);
    expect(cause).toBe('relay-refused');
    expect(afterMs).toBeLessThan(FAILURE_WITHIN_MS);
    const text = await receiver.evaluate(
      () => document.querySelector('[data-testid=connect-failure]')?.textContent ?? '',
    );
    expect(text).toMatch(/relay refused/i);
    // coturn itself turned down the credentials the gateway handed out.
    expect(suite.lab.coturnLog()).toMatch(/check_stun_auth/);
  });
});
