import { join } from 'node:path';

import {
  freePort,
  GATEWAY_AUDIENCE,
  GatewayStack,
  oidcGatewayEnv,
  ServiceProcess,
  workspaceRoot,
} from '@ephemeral/testing';

import {
  BrowserPeers,
  savedFileHashes,
  TestFiles,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';

import { type LoginPage, signIn, waitForVerifiedPeer } from './sign-in-pages';

// Sign-in in real Chromium against the real test OpenID Provider
// (tools/oidc/oidc-provider.mjs): its login page, authorization code with
// PKCE, tokens that last 15 s so the portal's silent refresh must work for a
// share to go on, and the gateway checking every token (docs/sign-in.md).

const ACCESS_TOKEN_TTL_SECONDS = 15;

describe('web app: enterprise sign-in', () => {
  let provider: ServiceProcess;
  let issuer: string;
  let stack: GatewayStack;
  let origin: string;
  let files: TestFiles;
  let login: LoginPage;
  const browsers = new BrowserPeers();

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    provider = await ServiceProcess.start({
      name: 'oidc-provider',
      entry: join(workspaceRoot, 'tools/oidc/oidc-provider.mjs'),
      env: {
        OIDC_PORT: '0',
        OIDC_AUDIENCE: GATEWAY_AUDIENCE,
        OIDC_ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS),
        OIDC_REDIRECT_URIS: `${origin}/sign-in/callback`,
      },
      readyWhen: /^OIDC_ISSUER=/,
    });
    issuer = (await provider.waitForLine(/^OIDC_ISSUER=/)).slice('OIDC_ISSUER='.length).trim();
    stack = await GatewayStack.start({
      gatewayEnv: oidcGatewayEnv(issuer, {
        PORT: String(port),
        WEB_ROOT: join(workspaceRoot, 'dist/apps/web/browser'),
        OIDC_SCOPES: 'openid profile email groups',
        OIDC_ALGORITHMS: 'ES256',
        OIDC_CLOCK_SKEW_SECONDS: '0',
        AUTH_OPEN: 'signed-in',
        AUTH_SHARE_GROUP: 'sharers',
      }),
    });
    login = { origin, loginUrl: issuer, submit: '#sign-in', navigationTimeoutMs: 20_000 };
    files = new TestFiles();
  }, 60_000);

  afterEach(async () => {
    await browsers.closeAll();
  });

  afterAll(async () => {
    await stack?.stop();
    await provider?.stop();
    files?.remove();
  });

  it('two signed-in people see each other’s verified names; an anonymous visitor is told to sign in; a share outlives its first token', async () => {
    const file = files.create('report.bin', 3 * 1024 * 1024 + 5);
    const [alice, bob, visitor, carol] = await Promise.all([
      browsers.launch('alice'),
      browsers.launch('bob'),
      browsers.launch('visitor'),
      browsers.launch('carol'),
    ]);

    await alice.page.goto(`${origin}/`);
    await signIn(alice.page, login, 'alice', 'alice-password');
    const signedInAt = Date.now();
    expect(await alice.page.textContent('[data-testid=signed-in-as]')).toContain(
      'Alice Archer (alice@example.com)',
    );
    await alice.page.setInputFiles('[data-testid=file-input]', [file]);
    const link = await alice.page.locator('[data-testid=share-link]').inputValue();
    expect(link).toMatch(/\/s\/[0-9a-f-]{36}#/);

    // Not signed in, where the deployment wants it: refused, and told why.
    await visitor.page.goto(link);
    await visitor.page.locator('[data-testid=sign-in-required]').waitFor({ timeout: 20_000 });
    expect(await visitor.page.textContent('[data-testid=sign-in-required]')).toContain(
      'requires sign-in',
    );

    // Bob opens the link, signs in from there and comes back to it.
    await bob.page.goto(link);
    await bob.page.locator('[data-testid=sign-in]').waitFor({ timeout: 15_000 });
    await signIn(bob.page, login, 'bob', 'bob-password');
    expect(bob.page.url()).toBe(link);
    await waitForReceiveState(bob.page, 'ready');
    await waitForVerifiedPeer(bob.page, 'Shared by Alice Archer (alice@example.com)');
    await waitForVerifiedPeer(alice.page, 'Bob Martin (bob@example.com) opened the link');
    await bob.page.click('[data-testid=download-all]');
    expect(Object.values(await waitForFilesSettled(bob.page, 1, 60_000))).toEqual(['verified']);
    expect(await savedFileHashes(bob.page)).toEqual(Object.fromEntries(files.hashes));

    // Past the lifetime of Alice's first token: her page must have refreshed
    // it silently, or the gateway would refuse her answer to a new receiver.
    await alice.page.waitForFunction(
      (until) => Date.now() > until,
      signedInAt + (ACCESS_TOKEN_TTL_SECONDS + 2) * 1000,
      { timeout: (ACCESS_TOKEN_TTL_SECONDS + 10) * 1000, polling: 500 },
    );
    await carol.page.goto(link);
    await signIn(carol.page, login, 'carol', 'carol-password');
    await waitForReceiveState(carol.page, 'ready');
    await waitForVerifiedPeer(alice.page, 'Carol Diaz (carol@example.org) opened the link');
    await carol.page.click('[data-testid=download-all]');
    expect(Object.values(await waitForFilesSettled(carol.page, 1, 60_000))).toEqual(['verified']);
  }, 240_000);

  it('someone outside the share group is told they may not share', async () => {
    const bob = await browsers.launch('bob-sender');
    await bob.page.goto(`${origin}/`);
    await signIn(bob.page, login, 'bob', 'bob-password');
    // The send page's Hello with his token is refused before any share exists.
    const refused = bob.page.locator('[data-testid=sign-in-refused]');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.textContent()).toContain('only members of sharers may share files here');
  }, 120_000);
});
