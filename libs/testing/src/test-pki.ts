import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { workspaceRoot } from './workspace-paths';

/** A certificate and its key, as file paths. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What tools/tls/make-test-pki.sh wrote: real certificates, made by openssl. */
export interface TestPki {
  readonly dir: string;
  /** The CA that signs presence's and the gateways' certificates. */
  readonly caFile: string;
  /** Presence's server certificate (127.0.0.1, ::1, localhost, presence-headless…). */
  readonly presence: TestCertificate;
  /** A client certificate per gateway ID asked for, subject CN = the ID. */
  readonly gateways: Readonly<Record<string, TestCertificate>>;
  /** A client certificate for the first gateway ID, from an unrelated CA. */
  readonly foreignGateway: TestCertificate;
  readonly foreignCaFile: string;
  /** Deletes the directory. */
  remove(): void;
}

/**
 * Runs tools/tls/make-test-pki.sh into a fresh temporary directory (well
 * under a second: EC P-256 keys).
 */
export function makeTestPki(gatewayIds: readonly string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ephemeral-pki-'));
  execFileSync('bash', [join(workspaceRoot, 'tools/tls/make-test-pki.sh'), dir, ...gatewayIds], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pair = (name: string): TestCertificate => ({
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
  });
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    presence: pair('presence'),
    gateways: Object.fromEntries(gatewayIds.map((id) => [id, pair(`client-${id}`)])),
    foreignGateway: pair('foreign-gateway'),
    foreignCaFile: join(dir, 'foreign-ca.crt'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
