import { SignInSession } from './sign-in-session';

/** A gateway answering GET /auth/settings with `body` (or failing). */
const settingsFrom = (body: unknown, ok = true) =>
  (async () => ({ ok, json: async () => body })) as unknown as typeof fetch;

describe('SignInSession settings', () => {
  it('keeps the audit flag with sign-in off, so the send page declares its share', async () => {
    const session = new SignInSession(settingsFrom({ mode: 'off', audit: true }));
    expect(await session.load()).toEqual({ mode: 'off', audit: true });
    expect(session.enabled).toBe(false);
    expect(session.auditing).toBe(true);
  });

  it('the embedded default stays as it was: off, no audit, also when the gateway cannot be read', async () => {
    for (const session of [
      new SignInSession(settingsFrom({ mode: 'off' })),
      new SignInSession(settingsFrom({ mode: 'off', audit: true }, false)),
      new SignInSession(settingsFrom({ mode: 'off', audit: 'yes' })),
    ]) {
      expect(await session.load()).toEqual({ mode: 'off' });
      expect(session.auditing).toBe(false);
    }
  });
});
