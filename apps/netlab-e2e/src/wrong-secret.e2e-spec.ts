import { FAILURE_WITHIN_MS, receiverFailure } from './failure-screen';
import { labSuite } from './lab-suite';

describe('netlab: the gateway mints TURN credentials with a secret coturn does not share', () => {
  const suite = labSuite('wrong-secret');

  it('the receiver ends on "could not connect" because the server\'s relay refused it, in bounded time', async () => {
    // Symmetric NATs on both sides: without the relay there is no path.
    const { receiver, cause, afterMs } = await receiverFailure(suite);
    expect(cause).toBe('relay-refused');
    expect(afterMs).toBeLessThan(FAILURE_WITHIN_MS);
    const text = await receiver.evaluate(
      () => document.querySelector('[data-testid=connect-failure]')?.textContent ?? '',
    );
    expect(text).toMatch(/relay refused/i);
    // coturn refused the credentials the gateway handed out (bad HMAC).
    expect(suite.lab.coturnLog()).toMatch(/check_stun_auth|401/);
  });
});
