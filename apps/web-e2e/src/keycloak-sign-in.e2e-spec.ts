import { join } from 'node:path';

import {
  BrowserPeers,
  savedFileHashes,
  TestFiles,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import {
  freePort,
  GatewayStack,
  KEYCLOAK_START_MS,
  oidcGatewayEnv,
  PORTAL_CLIENT_ID,
  ServiceProcess,
  startKeycloak,
  workspaceRoot,
} from '@ephemeral/testing';

import { type LoginPage, signIn, waitForVerifiedPeer } from './sign-in-pages';

// Sign-in in real Chromium through Keycloak's own login page (tools/keycloak:
// the Maven Central distribution, the test realm with the users and groups
// of tools/oidc): the portal's authorization code with PKCE, its token
// request from the page (CORS), Keycloak's RS256 access tokens checked by the
// gateway, and the verified names on both ends of a share.

const REALM = 'ephemeral';
// Only for this run's in-memory Keycloak on loopback: the admin REST API
// gives the realm's client this run's portal origin.
const ADMIN = { username: 'e2e-admin', password: 'e2e-admin-password' };

interface ClientRepresentation {
  id: string;
  redirectUris?: string[];
  webOrigins?: string[];
}

/** An admin access token from the master realm (password grant of admin-cli). */
async function adminToken(base: string): Promise<string> {
  const response = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', ...ADMIN }),
  });
  if (!response.ok) {
    throw new Error(`no Keycloak admin token: ${response.status} ${await response.text()}`);
  }
  return ((await response.json()) as { access_token: string }).access_token;
}

/**
 * The portal's origin as the client's only redirect URI and web origin:
 * the token request comes from the page, so Keycloak must allow its origin
 * (the realm's "+" derives origins from redirect URIs, which carry no port).
 */
async function allowPortalOrigin(base: string, origin: string): Promise<void> {
  const headers = { authorization: `Bearer ${await adminToken(base)}` };
  const clientsUrl = `${base}/admin/realms/${REALM}/clients`;
  const found = await fetch(`${clientsUrl}?clientId=${PORTAL_CLIENT_ID}`, { headers });
  if (!found.ok) throw new Error(`Keycloak clients lookup: ${found.status}`);
  const [client] = (await found.json()) as ClientRepresentation[];
  if (!client) throw new Error(`Keycloak realm ${REALM} has no client ${PORTAL_CLIENT_ID}`);
  const updated = await fetch(`${clientsUrl}/${client.id}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...client,
      redirectUris: [`${origin}/sign-in/callback`],
      webOrigins: [origin],
    }),
  });
  if (!updated.ok)
    throw new Error(`Keycloak client update: ${updated.status} ${await updated.text()}`);
}

describe('web app: sign-in through Keycloak', () => {
  let keycloak: ServiceProcess;
  let issuer: string;
  let stack: GatewayStack;
  let origin: string;
  let files: TestFiles;
  let login: LoginPage;
  const browsers = new BrowserPeers();

  beforeAll(async () => {
    ({ process: keycloak, issuer } = await startKeycloak(ADMIN));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    await allowPortalOrigin(new URL(issuer).origin, origin);
    stack = await GatewayStack.start({
      gatewayEnv: oidcGatewayEnv(issuer, {
        PORT: String(port),
        WEB_ROOT: join(workspaceRoot, 'dist/apps/web/browser'),
        // Keycloak's default client scopes; its groups claim is the realm's mapper.
        OIDC_SCOPES: 'openid profile email',
        AUTH_OPEN: 'signed-in',
        AUTH_SHARE_GROUP: 'sharers',
      }),
    });
    login = {
      origin,
      loginUrl: `${issuer}/protocol/openid-connect/auth`,
      submit: '#kc-login',
      navigationTimeoutMs: 30_000,
    };
    files = new TestFiles();
  }, KEYCLOAK_START_MS + 60_000);

  afterEach(async () => {
    await browsers.closeAll();
  });

  afterAll(async () => {
    await stack?.stop();
    await keycloak?.stop('SIGTERM', 30_000);
    files?.remove();
  });

  it('two people signed in on Keycloak’s login page see each other’s verified names and the file arrives verified', async () => {
    const file = files.create('keycloak-report.bin', 2 * 1024 * 1024 + 7);
    const [alice, bob] = await Promise.all([browsers.launch('alice'), browsers.launch('bob')]);

    await alice.page.goto(`${origin}/`);
    await signIn(alice.page, login, 'alice', 'alice-password');
    expect(await alice.page.textContent('[data-testid=signed-in-as]')).toContain(
      'Alice Archer (alice@example.com)',
    );
    await alice.page.setInputFiles('[data-testid=file-input]', [file]);
    const link = await alice.page.locator('[data-testid=share-link]').inputValue();
    expect(link).toMatch(/\/s\/[0-9a-f-]{36}#/);

    // Bob opens the link, signs in on Keycloak from there and comes back to it.
    await bob.page.goto(link);
    await bob.page.locator('[data-testid=sign-in]').waitFor({ timeout: 20_000 });
    await signIn(bob.page, login, 'bob', 'bob-password');
    expect(bob.page.url()).toBe(link);
    await waitForReceiveState(bob.page, 'ready');
    await waitForVerifiedPeer(bob.page, 'Shared by Alice Archer (alice@example.com)');
    await waitForVerifiedPeer(alice.page, 'Bob Martin (bob@example.com) opened the link');
    await bob.page.click('[data-testid=download-all]');
    expect(Object.values(await waitForFilesSettled(bob.page, 1, 60_000))).toEqual(['verified']);
    expect(await savedFileHashes(bob.page)).toEqual(Object.fromEntries(files.hashes));
  }, 240_000);
});
