import type { Identity } from '@ephemeral/protocol';

/** Who a socket is, from a verified access token, and until when that is believed. */
export interface VerifiedPrincipal {
  identity: Identity;
  /** Group names from the groups claim (empty when it is absent). */
  groups: string[];
  /** The token's `exp` in ms since the epoch. */
  expiresAtMs: number;
}

// Names and emails are shown to other people: keep them to a sane size and
// without control characters, whatever the issuer put in the token.
const MAX_SHOWN_LENGTH = 200;
const MAX_GROUPS = 200;

function shown(value: unknown): string {
  if (typeof value !== 'string') return '';
  // Control characters (C0 and DEL) by code point: no regex needed.
  const printable = Array.from(value)
    .filter((char) => {
      const code = char.codePointAt(0) ?? 0;
      return code >= 0x20 && code !== 0x7f;
    })
    .join('');
  return printable.slice(0, MAX_SHOWN_LENGTH).trim();
}

function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return value.filter((group): group is string => typeof group === 'string').slice(0, MAX_GROUPS);
}

/**
 * The principal in a verified token's payload. `sub`, `iss` and `exp` were
 * checked by the verifier; display name falls back from `name` to
 * `preferred_username` to the subject so no one is shown as nobody.
 */
export function principalFromClaims(
  claims: Record<string, unknown>,
  groupsClaim: string,
): VerifiedPrincipal {
  const subject = shown(claims['sub']);
  const email = shown(claims['email']);
  const at = email.lastIndexOf('@');
  const displayName = shown(claims['name']) || shown(claims['preferred_username']) || subject;
  return {
    identity: {
      subject,
      issuer: shown(claims['iss']),
      displayName,
      email: at > 0 ? email : '',
      emailDomain: at > 0 ? email.slice(at + 1).toLowerCase() : '',
    },
    groups: groupsOf(claims[groupsClaim]),
    expiresAtMs: typeof claims['exp'] === 'number' ? claims['exp'] * 1000 : 0,
  };
}
