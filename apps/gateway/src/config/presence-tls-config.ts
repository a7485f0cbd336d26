import { z } from 'zod';

import {
  checkTlsFiles,
  configProblems,
  subjectCommonName,
  type TlsFiles,
  withoutEmptyValues,
} from '@ephemeral/server-runtime';

/**
 * How the gateway reaches presence over mTLS (docs/security.md, "Presence
 * mTLS"): its client certificate and key, and the CA presence's certificate
 * must chain to.
 */
export interface PresenceTlsConfig extends TlsFiles {
  /** The name presence's certificate is checked for, when not PRESENCE_URL's host. */
  readonly serverName: string | null;
  /**
   * The certificate's subject CN: the gateway ID presence knows this gateway
   * by, and the only one whose leases it may write.
   */
  readonly gatewayId: string;
}

const VARIABLES = {
  certFile: 'PRESENCE_TLS_CERT_FILE',
  keyFile: 'PRESENCE_TLS_KEY_FILE',
  caFile: 'PRESENCE_TLS_CA_FILE',
} as const;

// GATEWAY_ID's own rule (gateway-config.ts).
const GATEWAY_ID = /^[\w.-]{1,128}$/;

const schema = z.object({
  PRESENCE_TLS_CERT_FILE: z.string().trim().min(1).optional(),
  PRESENCE_TLS_KEY_FILE: z.string().trim().min(1).optional(),
  PRESENCE_TLS_CA_FILE: z.string().trim().min(1).optional(),
  // A DNS name in presence's certificate: for a PRESENCE_URL whose host is
  // not one (ipv4:a:port,b:port lists, an IP the certificate does not name).
  PRESENCE_TLS_SERVER_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'must be a DNS name')
    .optional(),
});

/**
 * Reads PRESENCE_TLS_* — the three files together or none — and checks the
 * files at boot. Problems (each naming its variable) are added to
 * `problems`. `gatewayId` is GATEWAY_ID when set: it must be the
 * certificate's CN, or presence would refuse every lease this gateway writes.
 */
export function loadPresenceTlsConfig(
  env: NodeJS.ProcessEnv,
  gatewayId: string | undefined,
  problems: string[],
): PresenceTlsConfig | null {
  const parsed = schema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) {
    problems.push(...configProblems(parsed.error));
    return null;
  }
  const e = parsed.data;
  const set = Object.values(VARIABLES).filter((name) => e[name] !== undefined);
  if (set.length === 0) {
    if (e.PRESENCE_TLS_SERVER_NAME) {
      problems.push('PRESENCE_TLS_SERVER_NAME: only used with the PRESENCE_TLS_* files');
    }
    return null;
  }
  if (set.length < 3) {
    for (const name of Object.values(VARIABLES).filter((n) => !set.includes(n))) {
      problems.push(
        `${name}: required with ${set.join(' and ')}: the three PRESENCE_TLS_* files are set together or not at all`,
      );
    }
    return null;
  }
  const files: TlsFiles = {
    certFile: e.PRESENCE_TLS_CERT_FILE as string,
    keyFile: e.PRESENCE_TLS_KEY_FILE as string,
    caFile: e.PRESENCE_TLS_CA_FILE as string,
  };
  const check = checkTlsFiles(files, VARIABLES);
  problems.push(...check.problems);
  if (!check.certificate) return null;
  const commonName = subjectCommonName(check.certificate.subject);
  if (commonName === null || !GATEWAY_ID.test(commonName)) {
    problems.push(
      `PRESENCE_TLS_CERT_FILE: the certificate's subject needs exactly one CN, a gateway ID (1-128 of [A-Za-z0-9_.-]); it is ${JSON.stringify(check.certificate.subject)}`,
    );
    return null;
  }
  if (gatewayId !== undefined && gatewayId !== commonName) {
    problems.push(
      `GATEWAY_ID: must be ${commonName}, the CN of PRESENCE_TLS_CERT_FILE's certificate: presence lets a gateway write only the leases of the ID its certificate names`,
    );
  }
  return { ...files, serverName: e.PRESENCE_TLS_SERVER_NAME ?? null, gatewayId: commonName };
}
