import { Controller, Get, Header, Inject } from '@nestjs/common';

import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';

/** What the portal needs to sign in: public settings only (no secret exists for a public client). */
export interface SignInSettings {
  mode: 'off' | 'oidc';
  issuer?: string;
  clientId?: string;
  scopes?: string[];
  /** The `resource` the portal asks tokens for (RFC 8707), = the gateway's audience. */
  audience?: string;
  /** Who may open a share: `link`, `signed-in`, or `sender-choice`. */
  open?: string;
  /**
   * AUDIT_SINK=kafka: send pages declare their share (Hello.share) and
   * report transfers even with sign-in off, so the trail has them
   * (docs/audit.md). Absent otherwise.
   */
  audit?: true;
}

/** `GET /auth/settings`: the portal reads AUTH_MODE and the issuer from here at start. */
@Controller()
export class SignInSettingsController {
  private readonly settings: SignInSettings;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const auth = config.auth;
    const audit = config.audit.sink === 'kafka' ? { audit: true as const } : {};
    const settings: SignInSettings =
      auth.mode === 'oidc'
        ? {
            mode: 'oidc',
            issuer: auth.oidc.issuer,
            clientId: auth.oidc.clientId,
            scopes: auth.oidc.scopes,
            audience: auth.oidc.audience,
            open: auth.policy.open,
          }
        : { mode: 'off' };
    this.settings = { ...settings, ...audit };
  }

  @Get('auth/settings')
  @Header('cache-control', 'no-store')
  get(): SignInSettings {
    return this.settings;
  }
}
