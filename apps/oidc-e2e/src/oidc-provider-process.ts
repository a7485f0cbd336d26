import { join } from 'node:path';

import {
  GATEWAY_AUDIENCE,
  oidcGatewayEnv,
  ServiceProcess,
  workspaceRoot,
} from '@ephemeral/testing';

export interface ProviderOptions {
  audience?: string;
  accessTokenTtlSeconds?: number;
  redirectUris?: string[];
}

/** tools/oidc/oidc-provider.mjs as a real process on an ephemeral loopback port. */
export class OidcProviderProcess {
  private constructor(
    readonly process: ServiceProcess,
    readonly issuer: string,
  ) {}

  static async start(options: ProviderOptions = {}): Promise<OidcProviderProcess> {
    const process = await ServiceProcess.start({
      name: 'oidc-provider',
      entry: join(workspaceRoot, 'tools/oidc/oidc-provider.mjs'),
      env: {
        OIDC_PORT: '0',
        OIDC_AUDIENCE: options.audience ?? GATEWAY_AUDIENCE,
        OIDC_ACCESS_TOKEN_TTL_SECONDS: String(options.accessTokenTtlSeconds ?? 300),
        OIDC_REDIRECT_URIS: (options.redirectUris ?? ['http://127.0.0.1/sign-in/callback']).join(
          ',',
        ),
      },
      readyWhen: /^OIDC_ISSUER=/,
    });
    const line = await process.waitForLine(/^OIDC_ISSUER=/);
    return new OidcProviderProcess(process, line.slice('OIDC_ISSUER='.length).trim());
  }

  /**
   * A gateway's environment for sign-in with this provider (see
   * oidcGatewayEnv): it accepts only ES256, what tools/oidc signs with.
   */
  gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
    return oidcGatewayEnv(this.issuer, { OIDC_ALGORITHMS: 'ES256', ...extra });
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}
