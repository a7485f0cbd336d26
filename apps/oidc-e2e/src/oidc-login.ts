import { createHash, randomBytes } from 'node:crypto';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export const CLIENT_ID = 'ephemeral-portal';
export const REDIRECT_URI = 'http://127.0.0.1/sign-in/callback';

/** A tiny cookie jar: the provider's interaction and session cookies, by name. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The provider's endpoints from its discovery document (oidc-provider and Keycloak lay them out differently). */
async function endpointsOf(issuer: string): Promise<{ authorize: string; token: string }> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  const document = (await response.json()) as Record<string, unknown>;
  return {
    authorize: String(document['authorization_endpoint']),
    token: String(document['token_endpoint']),
  };
}

/** The login page's error (oidc-provider: #login-error; Keycloak: #input-error…, its feedback text). */
function loginError(page: string): string {
  return (
    /id="login-error">([^<]*)/.exec(page)?.[1] ??
    /id="input-error[\w-]*"[^>]*>\s*([^<\s][^<]*?)\s*</.exec(page)?.[1] ??
    /kc-feedback-text[^"]*">\s*([^<\s][^<]*?)\s*</.exec(page)?.[1] ??
    page.slice(0, 300)
  );
}

// A full sign-in is ~5 redirects; more is a loop.
const MAX_REDIRECTS = 12;

/**
 * Signs in through the provider's real login page the way a browser does,
 * without one: authorization request with PKCE (S256), the login form
 * (user name and password checked by the provider), consent, the redirect
 * with the code, and the token request with the verifier. Throws with the
 * page's error when the provider refuses.
 */
export async function signIn(
  issuer: string,
  username: string,
  password: string,
  // Keycloak refuses scopes it does not know (`groups`): its groups claim
  // comes from the client's mapper instead.
  scope = 'openid profile email groups',
): Promise<Tokens> {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const endpoints = await endpointsOf(issuer);
  const authorize = new URL(endpoints.authorize);
  authorize.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  }).toString();
  let url = authorize.href;
  let posted = false;
  for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
    if (url.startsWith(REDIRECT_URI)) return exchange(endpoints.token, new URL(url), verifier);
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      continue;
    }
    const page = await response.text();
    if (!page.includes('id="username"'))
      throw new Error(`provider answered ${response.status}: ${page.slice(0, 500)}`);
    if (posted) throw new Error(`login refused: ${loginError(page)}`);
    // Keycloak's form action carries HTML-escaped query separators.
    const action = /action="([^"]+)"/.exec(page)?.[1]?.replaceAll('&amp;', '&');
    if (!action) throw new Error('login page has no form');
    const submitted = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    });
    jar.take(submitted);
    posted = true;
    const next = submitted.headers.get('location');
    if (!next) {
      throw new Error(`login refused: ${loginError(await submitted.text())}`);
    }
    url = new URL(next, url).href;
  }
  throw new Error('too many redirects signing in');
}

async function exchange(tokenEndpoint: string, callback: URL, verifier: string): Promise<Tokens> {
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  return tokenRequest(tokenEndpoint, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: verifier,
  });
}

/** The refresh-token grant: a fresh access token without the login page. */
export async function refresh(issuer: string, refreshToken: string): Promise<Tokens> {
  return tokenRequest((await endpointsOf(issuer)).token, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
  });
}

async function tokenRequest(tokenEndpoint: string, form: Record<string, string>): Promise<Tokens> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  return {
    accessToken: String(body['access_token']),
    refreshToken: String(body['refresh_token'] ?? ''),
    expiresIn: Number(body['expires_in']),
  };
}
