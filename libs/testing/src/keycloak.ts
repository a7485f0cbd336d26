import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { freePort } from './free-port';
import { ServiceProcess } from './service-process';
import { workspaceRoot } from './workspace-paths';

/** Keycloak starts in 70-170 s on a busy 2-core box (ADR 0022 §7); a suite's beforeAll allows this. */
export const KEYCLOAK_START_MS = 400_000;

/** A Keycloak the suite started, and the issuer of its test realm. */
export interface StartedKeycloak {
  process: ServiceProcess;
  issuer: string;
}

/**
 * Installs (once) and starts Keycloak from tools/keycloak on two free
 * loopback ports, with the test realm (the users and groups of tools/oidc),
 * and resolves once it prints its issuer. With `admin`, Keycloak makes that
 * temporary admin user (for the admin REST API), and this waits until it has.
 * Stop it with `process.stop('SIGTERM', 30_000)`.
 */
export async function startKeycloak(admin?: {
  username: string;
  password: string;
}): Promise<StartedKeycloak> {
  const script = join(workspaceRoot, 'tools/keycloak/keycloak.sh');
  execFileSync('bash', [script, 'install'], { stdio: 'ignore' });
  const [httpPort, managementPort] = [await freePort(), await freePort()];
  const keycloak = await ServiceProcess.start({
    name: 'keycloak',
    entry: script,
    interpreter: 'bash',
    args: ['run', String(httpPort), String(managementPort)],
    ...(admin
      ? {
          env: {
            KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
            KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
          },
        }
      : {}),
    processGroup: true,
    readyWhen: /^KEYCLOAK_ISSUER=/,
    readyTimeoutMs: KEYCLOAK_START_MS,
  });
  const issuer = (await keycloak.waitForLine(/^KEYCLOAK_ISSUER=/))
    .slice('KEYCLOAK_ISSUER='.length)
    .trim();
  // Keycloak logs it as it makes the admin user, which may trail the listener.
  if (admin) await keycloak.waitForLine(/Created temporary admin user/, 60_000);
  return { process: keycloak, issuer };
}
