import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { configProblems, withoutEmptyValues } from '@ephemeral/server-runtime';

/** The SASL mechanisms a service may log in with (kafkajs's names). */
export type KafkaSaslMechanism = 'scram-sha-256' | 'scram-sha-512';

/**
 * How a service authenticates to the brokers and protects the connection
 * (docs/security.md, "Kafka authentication and ACLs"). Holds a password:
 * never log it.
 */
export interface KafkaSecurity {
  /** SASL login; null: none (a broker without authentication). */
  readonly sasl: {
    readonly mechanism: KafkaSaslMechanism;
    readonly username: string;
    readonly password: string;
  } | null;
  /** TLS to the brokers; null: plaintext. `ca`: the PEM CA(s) to trust instead of Node's. */
  readonly ssl: { readonly ca: Buffer | null } | null;
}

const SASL_VARIABLES = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
] as const;

const schema = z.object({
  KAFKA_SASL_MECHANISM: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.enum(['scram-sha-512', 'scram-sha-256'], {
        error: 'must be "scram-sha-512" or "scram-sha-256"',
      }),
    )
    .optional(),
  // Strimzi names a KafkaUser's principal after the resource: a DNS-style name.
  KAFKA_SASL_USERNAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,255}$/, 'must be 1-255 of [A-Za-z0-9._-]')
    .optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().trim().min(1).optional(),
  KAFKA_SSL: z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).optional(),
  KAFKA_SSL_CA_FILE: z.string().trim().min(1).optional(),
});

/** The file's text without one trailing line break (`echo secret > file`). */
function readSecretFile(path: string, variable: string, problems: string[]): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(`${variable}: cannot read ${path}${code ? ` (${code})` : ''}`);
    return null;
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') {
    problems.push(`${variable}: ${path} is empty`);
    return null;
  }
  return secret;
}

function readCaFile(path: string, problems: string[]): Buffer | null {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(`KAFKA_SSL_CA_FILE: cannot read ${path}${code ? ` (${code})` : ''}`);
    return null;
  }
  try {
    new X509Certificate(pem);
  } catch {
    problems.push(`KAFKA_SSL_CA_FILE: ${path} holds no PEM CA certificate`);
    return null;
  }
  return pem;
}

/**
 * Reads KAFKA_SASL_* and KAFKA_SSL* (docs/configuration.md). SASL settings
 * come all together or not at all: a mechanism, a username and the password,
 * either in KAFKA_SASL_PASSWORD or, better (nothing secret in the process
 * environment or a manifest), in the file KAFKA_SASL_PASSWORD_FILE names,
 * read once at boot. Problems, each naming its variable, are added to
 * `problems`; `brokersSet` says whether KAFKA_BROKERS is (these settings
 * mean nothing without it). Null: no security settings at all.
 */
export function loadKafkaSecurity(
  env: NodeJS.ProcessEnv,
  brokersSet: boolean,
  problems: string[],
): KafkaSecurity | null {
  const parsed = schema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) {
    problems.push(...configProblems(parsed.error));
    return null;
  }
  const e = parsed.data;
  const saslSet = SASL_VARIABLES.filter((name) => e[name] !== undefined);
  const sslOn = e.KAFKA_SSL === 'true';
  if (saslSet.length === 0 && !sslOn) {
    if (e.KAFKA_SSL_CA_FILE) problems.push('KAFKA_SSL_CA_FILE: only used with KAFKA_SSL=true');
    return null;
  }
  if (!brokersSet) {
    for (const name of [...saslSet, ...(sslOn ? ['KAFKA_SSL'] : [])]) {
      problems.push(`${name}: only used with KAFKA_BROKERS`);
    }
    return null;
  }
  const before = problems.length;
  let sasl: KafkaSecurity['sasl'] = null;
  if (saslSet.length > 0) {
    const together = `required with ${saslSet.join(' and ')}: the KAFKA_SASL_* settings are set together or not at all`;
    if (!e.KAFKA_SASL_MECHANISM) problems.push(`KAFKA_SASL_MECHANISM: ${together}`);
    if (!e.KAFKA_SASL_USERNAME) problems.push(`KAFKA_SASL_USERNAME: ${together}`);
    if (e.KAFKA_SASL_PASSWORD !== undefined && e.KAFKA_SASL_PASSWORD_FILE) {
      problems.push(
        'KAFKA_SASL_PASSWORD: set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
      );
    } else if (e.KAFKA_SASL_PASSWORD === undefined && !e.KAFKA_SASL_PASSWORD_FILE) {
      problems.push(`KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD): ${together}`);
    }
    const password =
      problems.length > before
        ? null
        : e.KAFKA_SASL_PASSWORD_FILE
          ? readSecretFile(e.KAFKA_SASL_PASSWORD_FILE, 'KAFKA_SASL_PASSWORD_FILE', problems)
          : (e.KAFKA_SASL_PASSWORD ?? null);
    if (password !== null && e.KAFKA_SASL_MECHANISM && e.KAFKA_SASL_USERNAME) {
      sasl = { mechanism: e.KAFKA_SASL_MECHANISM, username: e.KAFKA_SASL_USERNAME, password };
    }
  }
  let ssl: KafkaSecurity['ssl'] = null;
  if (sslOn) {
    ssl = { ca: e.KAFKA_SSL_CA_FILE ? readCaFile(e.KAFKA_SSL_CA_FILE, problems) : null };
  } else if (e.KAFKA_SSL_CA_FILE) {
    problems.push('KAFKA_SSL_CA_FILE: only used with KAFKA_SSL=true');
  }
  return problems.length > before ? null : { sasl, ssl };
}

/** What a log line may say about the security settings: no secret. */
export function describeKafkaSecurity(security: KafkaSecurity | null): Record<string, unknown> {
  return {
    sasl: security?.sasl
      ? { mechanism: security.sasl.mechanism, username: security.sasl.username }
      : null,
    tls: security?.ssl ? { customCa: security.ssl.ca !== null } : false,
  };
}
