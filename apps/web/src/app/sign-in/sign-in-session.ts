import { signal } from '@angular/core';

import type * as OAuth from 'oauth4webapi';

/** What the gateway says about sign-in (`GET /auth/settings`). */
export interface SignInSettings {
  mode: 'off' | 'oidc';
  issuer?: string;
  clientId?: string;
  scopes?: string[];
  audience?: string;
  open?: string;
  /** The gateway writes an audit trail: send pages declare their share, signed in or not. */
  audit?: true;
}

/** Who is signed in, from the ID token (for this tab's own header only). */
export interface SignedInUser {
  name: string;
  email: string;
}

interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

interface Tokens {
  access: string;
  refresh: string | undefined;
  idToken: string | undefined;
  expiresAtMs: number;
}

// The authorization round trip leaves the page: what it needs on the way
// back (PKCE verifier, state, nonce, where to return) waits in this tab's
// sessionStorage, and is deleted as soon as the callback reads it. The
// return address may hold a share link's fragment (its secret): it never
// leaves the browser this way either.
const PENDING_KEY = 'es.sign-in.pending';
// Refresh when this much of the access token's lifetime is gone, so a fresh
// one reaches the gateway well before the old one expires.
const REFRESH_AT_FRACTION = 0.7;
// A refresh that fails is retried this often, then the user is asked to
// sign in again (transfers keep running meanwhile: ADR 0022 §5).
const REFRESH_ATTEMPTS = 3;
const REFRESH_RETRY_MS = 5_000;

export const CALLBACK_PATH = '/sign-in/callback';

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/**
 * The portal's OpenID Connect session on `oauth4webapi` (ADR 0022 §8):
 * authorization code with PKCE against the issuer's discovery document,
 * tokens in memory only, silent refresh with the refresh token before the
 * access token runs out, and sign-out at the issuer. With sign-in off
 * (`mode: 'off'`) it does nothing and oauth4webapi is never loaded.
 */
export class SignInSession {
  readonly settings = signal<SignInSettings | null>(null);
  readonly user = signal<SignedInUser | null>(null);
  /** Why the gateway wants this page signed in (set from its error), or null. */
  readonly required = signal<string | null>(null);
  readonly problem = signal<string | null>(null);
  /** The sharing policy refused this page (not in the share group, a limit). */
  readonly refused = signal<string | null>(null);

  private tokens: Tokens | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<(accessToken: string) => void>();
  private loading: Promise<SignInSettings> | null = null;
  private oauth: typeof OAuth | null = null;
  private server: OAuth.AuthorizationServer | null = null;

  constructor(private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init)) {}

  /** Reads the gateway's settings once; `mode: 'off'` when it cannot be read. */
  load(): Promise<SignInSettings> {
    this.loading ??= this.fetchFn('/auth/settings', { cache: 'no-store' })
      .then(async (response) => (response.ok ? ((await response.json()) as SignInSettings) : null))
      .catch(() => null)
      .then((settings) => {
        const loaded: SignInSettings =
          settings?.mode === 'oidc'
            ? settings
            : { mode: 'off', ...(settings?.audit === true ? { audit: true as const } : {}) };
        this.settings.set(loaded);
        return loaded;
      });
    return this.loading;
  }

  get enabled(): boolean {
    return this.settings()?.mode === 'oidc';
  }

  /** The gateway keeps an audit trail (AUDIT_SINK=kafka), with sign-in on or off. */
  get auditing(): boolean {
    return this.settings()?.audit === true;
  }

  /** The current access token (undefined when signed out or sign-in is off). */
  accessToken(): string | undefined {
    return this.tokens?.access;
  }

  /** Called with every refreshed access token; returns the unsubscribe. */
  onAccessToken(listener: (accessToken: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The gateway refused this page for want of a sign-in (its message). */
  signInRequired(message: string): void {
    if (this.enabled && !this.tokens) this.required.set(message);
  }

  /** Leaves for the issuer's login page; comes back at `returnTo`. */
  async signIn(returnTo: string = location.href): Promise<void> {
    const { oauth, server, client, settings } = await this.ready();
    const verifier = oauth.generateRandomCodeVerifier();
    const pending: PendingSignIn = {
      verifier,
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      returnTo,
    };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    if (!server.authorization_endpoint)
      throw new Error(
        $localize`:@@signIn.error.noAuthorizationEndpoint:the issuer has no authorization endpoint`,
      );
    const url = new URL(server.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: this.redirectUri(),
      response_type: 'code',
      scope: (settings.scopes ?? ['openid']).join(' '),
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    }).toString();
    location.assign(url.href);
  }

  /** On the callback page: trades the code for tokens; returns where to go next. */
  async completeSignIn(callbackUrl: URL): Promise<string> {
    const raw = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    if (!raw)
      throw new Error($localize`:@@signIn.error.notStarted:no sign-in was started in this tab`);
    const pending = JSON.parse(raw) as PendingSignIn;
    const { oauth, server, client, options } = await this.ready();
    const params = oauth.validateAuthResponse(server, client, callbackUrl, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      server,
      client,
      oauth.None(),
      params,
      this.redirectUri(),
      pending.verifier,
      options,
    );
    const result = await oauth.processAuthorizationCodeResponse(server, client, response, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    });
    this.accept(result);
    const claims = oauth.getValidatedIdTokenClaims(result);
    this.user.set({
      name: String(claims?.['name'] ?? claims?.['preferred_username'] ?? claims?.sub ?? ''),
      email: String(claims?.['email'] ?? ''),
    });
    this.required.set(null);
    return pending.returnTo;
  }

  /** Forgets the tokens and ends the issuer's session (RP-initiated logout where offered). */
  async signOut(): Promise<void> {
    const idToken = this.tokens?.idToken;
    this.forget();
    const { server } = await this.ready();
    if (!server.end_session_endpoint) {
      location.assign('/');
      return;
    }
    const url = new URL(server.end_session_endpoint);
    url.searchParams.set('post_logout_redirect_uri', `${location.origin}/`);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    location.assign(url.href);
  }

  private forget(): void {
    this.tokens = null;
    this.user.set(null);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  private accept(result: OAuth.TokenEndpointResponse): void {
    const lifetimeMs = (result.expires_in ?? 300) * 1000;
    this.tokens = {
      access: result.access_token,
      refresh: result.refresh_token ?? this.tokens?.refresh,
      idToken: result.id_token ?? this.tokens?.idToken,
      expiresAtMs: Date.now() + lifetimeMs,
    };
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.tokens.refresh) {
      this.refreshTimer = setTimeout(() => void this.refresh(1), lifetimeMs * REFRESH_AT_FRACTION);
    }
    for (const listener of this.listeners) listener(result.access_token);
  }

  /** Silent refresh with the refresh token; no page leaves, nothing running stops. */
  private async refresh(attempt: number): Promise<void> {
    const refreshToken = this.tokens?.refresh;
    if (!refreshToken) return;
    try {
      const { oauth, server, client, options } = await this.ready();
      const response = await oauth.refreshTokenGrantRequest(
        server,
        client,
        oauth.None(),
        refreshToken,
        options,
      );
      this.accept(await oauth.processRefreshTokenResponse(server, client, response));
      this.problem.set(null);
    } catch {
      if (attempt < REFRESH_ATTEMPTS) {
        this.refreshTimer = setTimeout(() => void this.refresh(attempt + 1), REFRESH_RETRY_MS);
      } else {
        this.problem.set(
          $localize`:@@signIn.expired:Your sign-in ran out. Running transfers go on; sign in again to start new ones.`,
        );
      }
    }
  }

  private redirectUri(): string {
    return `${location.origin}${CALLBACK_PATH}`;
  }

  /** oauth4webapi (loaded on first use) and the issuer's discovery document. */
  private async ready() {
    const settings = await this.load();
    if (settings.mode !== 'oidc' || !settings.issuer || !settings.clientId) {
      throw new Error($localize`:@@signIn.error.off:sign-in is off on this service`);
    }
    this.oauth ??= await import('oauth4webapi');
    const oauth = this.oauth;
    const issuer = new URL(settings.issuer);
    // Plain HTTP only to a loopback issuer (the local test provider).
    const options = isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
    if (!this.server) {
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options });
      this.server = await oauth.processDiscoveryResponse(issuer, response);
    }
    const client: OAuth.Client = { client_id: settings.clientId };
    return { oauth, server: this.server, client, settings, options };
  }
}

/** The page's one session (one tab = one person). */
export const signInSession = new SignInSession();
