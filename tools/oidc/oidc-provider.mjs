// A real OpenID Provider for the tests: `oidc-provider` (OpenID Certified)
// with a login page that checks test users' passwords, signed JWT access
// tokens for the gateway's audience, PKCE required, refresh tokens, and an
// access-token lifetime short enough for the refresh tests (ADR 0022).
//
// Environment (all optional):
//   OIDC_PORT                    port on 127.0.0.1 (0 = any free one; default 0)
//   OIDC_AUDIENCE                the access tokens' `aud` (an absolute URI, RFC 8707; default urn:ephemeral-share:gateway)
//   OIDC_CLIENT_ID               the portal's public client (default ephemeral-portal)
//   OIDC_REDIRECT_URIS           comma-separated redirect URIs of that client
//   OIDC_ACCESS_TOKEN_TTL_SECONDS access-token lifetime (default 300)
//   OIDC_READY_FILE              where to write {"issuer": ...} once listening
//
// Prints one line `OIDC_ISSUER=<url>` on stdout once listening; SIGTERM stops it.
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import { TEST_USERS } from './test-users.mjs';

const port = Number(process.env.OIDC_PORT ?? '0');
const audience = process.env.OIDC_AUDIENCE || 'urn:ephemeral-share:gateway';
const clientId = process.env.OIDC_CLIENT_ID || 'ephemeral-portal';
const redirectUris = (process.env.OIDC_REDIRECT_URIS || 'http://127.0.0.1:8080/sign-in/callback')
  .split(',')
  .map((uri) => uri.trim())
  .filter(Boolean);
const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL_SECONDS ?? '300');

// A fresh signing key per run: the gateway must fetch it from the JWKS.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'ES256',
};

function html(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  return html(
    'Sign in — test OpenID Provider',
    `<h1>Sign in</h1>
${error ? `<p role="alert" id="login-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
  <label>User name <input id="username" name="username" autocomplete="username" required></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
  <button id="sign-in" type="submit">Sign in</button>
</form>`,
  );
}

function passwordMatches(user, password) {
  const a = Buffer.from(user.password);
  const b = Buffer.from(password);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
      application_type: 'web',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: redirectUris.map((uri) => new URL('/', uri).href),
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
  pkce: { required: () => true },
  clientBasedCORS: () => true,
  ttl: {
    AccessToken: accessTokenTtl,
    IdToken: 3600,
    RefreshToken: 86400,
    Session: 86400,
    Interaction: 600,
    Grant: 86400,
  },
  // Browser clients are public: hand them a refresh token for silent refresh
  // without asking for offline_access.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => audience,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        if (resource !== audience) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'openid profile email groups',
          audience,
          accessTokenTTL: accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  // The gateway reads who someone is from the access token alone.
  extraTokenClaims: async (_ctx, token) => {
    const user = TEST_USERS.find((candidate) => candidate.id === token.accountId);
    if (!user) return undefined;
    return { name: user.name, email: user.email, groups: user.groups };
  },
  findAccount: async (_ctx, id) => {
    const user = TEST_USERS.find((candidate) => candidate.id === id);
    if (!user) return undefined;
    return {
      accountId: user.id,
      claims: async () => ({
        sub: user.id,
        name: user.name,
        preferred_username: user.username,
        email: user.email,
        email_verified: true,
        groups: user.groups,
      }),
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = html(
      'Error',
      `<h1>Error</h1><pre id="oidc-error">${escapeHtml(JSON.stringify(out))}</pre>`,
    );
  },
};

// Listen first so the issuer carries the real port.
const server = createServer();
await new Promise((resolveListen) => server.listen(port, '127.0.0.1', resolveListen));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, configuration);
// Loopback over plain HTTP is what the tests use; the provider would
// otherwise insist on secure cookies.
provider.proxy = false;

/** The login page and what its form posts: the only interaction the tests need. */
async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
  if (!match) return false;
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(details.uid));
      return true;
    }
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const user = TEST_USERS.find((candidate) => candidate.username === username);
    if (!user || !passwordMatches(user, form.get('password') ?? '')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(details.uid, 'Wrong user name or password.'));
      return true;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.id } },
      { mergeWithLastSubmission: false },
    );
    return true;
  }
  // Consent: a test provider grants what the portal asks for.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({
        accountId: details.session.accountId,
        clientId: details.params.client_id,
      });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
  return true;
}

const callback = provider.callback();
server.on('request', (req, res) => {
  interaction(req, res)
    .then((handled) => {
      if (!handled) callback(req, res);
    })
    .catch((error) => {
      console.error(
        JSON.stringify({ level: 'error', msg: 'interaction failed', err: String(error) }),
      );
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('interaction failed');
    });
});

if (process.env.OIDC_READY_FILE)
  writeFileSync(process.env.OIDC_READY_FILE, JSON.stringify({ issuer, pid: process.pid }));
console.log(`OIDC_ISSUER=${issuer}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
