import { z } from 'zod';

import { decimalInteger } from '@ephemeral/server-runtime';

/** Who may open a share: the deployment's rule (docs/sign-in.md). */
export type OpenPolicy = 'link' | 'signed-in' | 'sender-choice';

/** The verifier's settings: what a token must say to be believed. */
export interface OidcVerifierConfig {
  /** Exactly the `iss` tokens must carry, and where discovery is read. */
  issuer: string;
  /** The `aud` tokens must carry (the gateway's resource / API identifier). */
  audience: string;
  /** The portal's public client ID (sent to the portal, not checked in tokens). */
  clientId: string;
  scopes: string[];
  /** JWS algorithms accepted; anything else (and `none`, HS*) is refused. */
  algorithms: string[];
  /** Bounded leeway for `exp`/`nbf`/`iat` between the issuer's clock and ours. */
  clockSkewSeconds: number;
  /** The claim holding group names (an array of strings, or one string). */
  groupsClaim: string;
}

export interface AuthPolicyConfig {
  /** Members of this group may create shares; null: anyone signed in. */
  shareGroup: string | null;
  open: OpenPolicy;
  /** Shares one person may host at once on this gateway; 0 = no limit. */
  maxSharesPerPerson: number;
  /** Distinct receivers one share may answer; 0 = no limit. */
  maxReceiversPerShare: number;
}

export type AuthConfig =
  { mode: 'off' } | { mode: 'oidc'; oidc: OidcVerifierConfig; policy: AuthPolicyConfig };

// Asymmetric algorithms only: a shared-secret (HS*) token could be minted by
// anyone holding the client secret, and `none` is no signature at all.
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);

const authEnvSchema = z.object({
  AUTH_MODE: z.enum(['off', 'oidc']).default('off'),
  OIDC_ISSUER: z
    .string()
    .refine((text) => /^https?:\/\/\S+$/.test(text) && URL.canParse(text), 'must be an http(s) URL')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_SCOPES: z
    .string()
    .default('openid profile email')
    .transform(list)
    .refine((scopes) => scopes.includes('openid'), 'must include openid'),
  OIDC_ALGORITHMS: z
    .string()
    .default('RS256,PS256,ES256')
    .transform(list)
    .pipe(
      z
        .array(
          z.enum(ASYMMETRIC_ALGORITHMS, {
            error: 'only asymmetric JWS algorithms (RS*, PS*, ES*, EdDSA)',
          }),
        )
        .min(1),
    ),
  // Seconds; 5 minutes at most: a bigger skew is a broken clock, not drift.
  OIDC_CLOCK_SKEW_SECONDS: decimalInteger(0, 300).default(30),
  OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  AUTH_SHARE_GROUP: z.string().min(1).optional(),
  AUTH_OPEN: z.enum(['link', 'signed-in', 'sender-choice']).default('signed-in'),
  AUTH_MAX_SHARES_PER_PERSON: decimalInteger(0, 10_000).default(5),
  AUTH_MAX_RECEIVERS_PER_SHARE: decimalInteger(0, 100_000).default(50),
});

/**
 * Reads AUTH_MODE and, for `oidc`, the issuer, audience, client and policy.
 * Problems are appended to `problems` (reported with every other bad value
 * by loadGatewayConfig). AUTH_MODE unset: `{mode: 'off'}`, nothing else read.
 */
export function loadAuthConfig(
  env: Record<string, string | undefined>,
  problems: string[],
): AuthConfig {
  // Sign-in off reads nothing else: the anonymous default ignores OIDC_* values.
  if ((env['AUTH_MODE'] ?? 'off') === 'off') return { mode: 'off' };
  const parsed = authEnvSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${issue.path.join('.')}: ${issue.message}`);
    return { mode: 'off' };
  }
  const e = parsed.data;
  if (e.AUTH_MODE === 'off') return { mode: 'off' };
  for (const name of ['OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_CLIENT_ID'] as const) {
    if (!e[name]) problems.push(`${name}: required when AUTH_MODE=oidc`);
  }
  if (!e.OIDC_ISSUER || !e.OIDC_AUDIENCE || !e.OIDC_CLIENT_ID) return { mode: 'off' };
  return {
    mode: 'oidc',
    oidc: {
      issuer: e.OIDC_ISSUER,
      audience: e.OIDC_AUDIENCE,
      clientId: e.OIDC_CLIENT_ID,
      scopes: e.OIDC_SCOPES,
      algorithms: e.OIDC_ALGORITHMS,
      clockSkewSeconds: e.OIDC_CLOCK_SKEW_SECONDS,
      groupsClaim: e.OIDC_GROUPS_CLAIM,
    },
    policy: {
      shareGroup: e.AUTH_SHARE_GROUP ?? null,
      open: e.AUTH_OPEN,
      maxSharesPerPerson: e.AUTH_MAX_SHARES_PER_PERSON,
      maxReceiversPerShare: e.AUTH_MAX_RECEIVERS_PER_SHARE,
    },
  };
}
