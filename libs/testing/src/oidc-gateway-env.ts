/** The audience the test providers (tools/oidc, tools/keycloak) put in access tokens for the gateway. */
export const GATEWAY_AUDIENCE = 'urn:ephemeral-share:gateway';
/** The portal's client at both test providers. */
export const PORTAL_CLIENT_ID = 'ephemeral-portal';

/**
 * A gateway's environment for sign-in (AUTH_MODE=oidc) against `issuer`, with
 * the test providers' audience and client. `extra` adds to or overrides it:
 * who may open links (AUTH_OPEN), the share group, limits, or OIDC_ALGORITHMS
 * (unset: the gateway's defaults, which take Keycloak's RS256).
 */
export function oidcGatewayEnv(
  issuer: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AUTH_MODE: 'oidc',
    OIDC_ISSUER: issuer,
    OIDC_AUDIENCE: GATEWAY_AUDIENCE,
    OIDC_CLIENT_ID: PORTAL_CLIENT_ID,
    ...extra,
  };
}
