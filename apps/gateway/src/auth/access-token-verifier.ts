import type * as Jose from 'jose';

import type { OidcVerifierConfig } from './auth-config';
import { principalFromClaims, type VerifiedPrincipal } from './verified-principal';

/** Why a token was not believed; `message` is safe to send to the client (no token in it). */
export type TokenFailure =
  | { failure: 'expired'; message: string }
  | { failure: 'invalid'; message: string }
  /** The issuer's discovery or JWKS could not be read: not the client's fault. */
  | { failure: 'unavailable'; message: string };

export type TokenVerdict =
  { ok: true; principal: VerifiedPrincipal } | ({ ok: false } & TokenFailure);

/** Checks an access token; the gateway's only way to learn who a socket is. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<TokenVerdict>;
}

// A JWT of more than this is not an access token anyone issues; refuse it
// before parsing.
const MAX_TOKEN_CHARS = 16 * 1024;
// Discovery and JWKS fetches: an issuer that does not answer in this time
// costs a Hello an UNAVAILABLE, not a stuck handshake.
const FETCH_TIMEOUT_MS = 5_000;
// A key ID we do not know makes jose refetch the JWKS (rotation), at most
// once per cooldown; the set is refetched anyway after the max age.
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;

// jose is ESM-only; Node >= 20.19 requires it synchronously. Loaded on first
// use so that code paths (and unit specs) with sign-in off never load it.
function jose(): typeof Jose {
  return require('jose') as typeof Jose;
}

interface Discovery {
  issuer: string;
  jwks_uri: string;
}

/**
 * Verifies JWT access tokens with `jose` against the issuer's published
 * keys: discovery (`/.well-known/openid-configuration`, whose `issuer` must
 * be the configured one) names the JWKS, which jose caches and refetches on
 * an unknown `kid` (key rotation). Checks signature, algorithm allow-list,
 * `iss`, `aud`, `exp`/`nbf` with bounded skew, and that `sub` is present.
 */
export class JoseAccessTokenVerifier implements AccessTokenVerifier {
  private keys: Promise<Jose.JWTVerifyGetKey> | undefined;

  constructor(
    private readonly config: OidcVerifierConfig,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async verify(token: string): Promise<TokenVerdict> {
    if (token.length > MAX_TOKEN_CHARS) {
      return { ok: false, failure: 'invalid', message: 'access token is too long' };
    }
    const j = jose();
    // Unverified, only to say clearly why a token is refused: a token of
    // another issuer would otherwise fail as "no matching key".
    let claimedIssuer: unknown;
    try {
      claimedIssuer = j.decodeJwt(token).iss;
    } catch {
      return { ok: false, failure: 'invalid', message: 'access token is not a JWT' };
    }
    if (claimedIssuer !== this.config.issuer) {
      return {
        ok: false,
        failure: 'invalid',
        message: `access token is from another issuer (${String(claimedIssuer).slice(0, 200)}), not ${this.config.issuer}`,
      };
    }
    let getKey: Jose.JWTVerifyGetKey;
    try {
      getKey = await this.jwks();
    } catch (error) {
      return {
        ok: false,
        failure: 'unavailable',
        message: `issuer discovery failed: ${String(error)}`,
      };
    }
    try {
      const { payload } = await j.jwtVerify(token, getKey, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      return { ok: true, principal: principalFromClaims(payload, this.config.groupsClaim) };
    } catch (error) {
      return this.failureOf(error);
    }
  }

  private failureOf(error: unknown): { ok: false } & TokenFailure {
    const errors = jose().errors;
    if (error instanceof errors.JWTExpired) {
      return { ok: false, failure: 'expired', message: 'access token has expired; refresh it' };
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      const what =
        error.claim === 'aud' ? `audience is not ${this.config.audience}` : error.message;
      return { ok: false, failure: 'invalid', message: `access token refused: ${what}` };
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      return {
        ok: false,
        failure: 'invalid',
        message: 'access token signed with an algorithm not allowed',
      };
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      return {
        ok: false,
        failure: 'invalid',
        message: "access token signed with a key not in the issuer's JWKS",
      };
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return { ok: false, failure: 'invalid', message: 'access token signature does not verify' };
    }
    // A JWKS fetch that timed out or failed (no JOSE error): the issuer's fault, not the client's.
    if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
      return { ok: false, failure: 'unavailable', message: 'the issuer keys could not be fetched' };
    }
    return { ok: false, failure: 'invalid', message: 'access token is not valid' };
  }

  /** Discovery once (retried after a failure), then jose's caching remote JWKS. */
  private jwks(): Promise<Jose.JWTVerifyGetKey> {
    if (!this.keys) {
      this.keys = this.discover().then((discovery) =>
        jose().createRemoteJWKSet(new URL(discovery.jwks_uri), {
          timeoutDuration: FETCH_TIMEOUT_MS,
          cooldownDuration: JWKS_COOLDOWN_MS,
          cacheMaxAge: JWKS_MAX_AGE_MS,
        }),
      );
      this.keys.catch(() => {
        this.keys = undefined;
      });
    }
    return this.keys;
  }

  private async discover(): Promise<Discovery> {
    const url = `${this.config.issuer}/.well-known/openid-configuration`;
    const response = await this.fetchFn(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const body = (await response.json()) as Partial<Discovery>;
    if (body.issuer !== this.config.issuer) {
      throw new Error(`discovery names issuer ${String(body.issuer)}, not ${this.config.issuer}`);
    }
    if (typeof body.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
    return { issuer: body.issuer, jwks_uri: body.jwks_uri };
  }
}
