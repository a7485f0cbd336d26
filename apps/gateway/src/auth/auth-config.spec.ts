import { loadAuthConfig } from './auth-config';

function load(env: Record<string, string>) {
  const problems: string[] = [];
  return { config: loadAuthConfig(env, problems), problems };
}

const OIDC = {
  AUTH_MODE: 'oidc',
  OIDC_ISSUER: 'https://id.example.com/realms/acme/',
  OIDC_AUDIENCE: 'ephemeral-gateway',
  OIDC_CLIENT_ID: 'ephemeral-portal',
};

describe('loadAuthConfig', () => {
  it('is off when AUTH_MODE is unset, whatever else is set', () => {
    expect(load({ OIDC_ISSUER: 'not a url' })).toEqual({ config: { mode: 'off' }, problems: [] });
  });

  it('reads the issuer (trailing slash dropped), audience, client and safe defaults', () => {
    const { config, problems } = load(OIDC);
    expect(problems).toEqual([]);
    expect(config).toEqual({
      mode: 'oidc',
      oidc: {
        issuer: 'https://id.example.com/realms/acme',
        audience: 'ephemeral-gateway',
        clientId: 'ephemeral-portal',
        scopes: ['openid', 'profile', 'email'],
        algorithms: ['RS256', 'PS256', 'ES256'],
        clockSkewSeconds: 30,
        groupsClaim: 'groups',
      },
      policy: {
        shareGroup: null,
        open: 'signed-in',
        maxSharesPerPerson: 5,
        maxReceiversPerShare: 50,
      },
    });
  });

  it('names every missing or bad setting', () => {
    expect(load({ AUTH_MODE: 'oidc' }).problems).toEqual([
      'OIDC_ISSUER: required when AUTH_MODE=oidc',
      'OIDC_AUDIENCE: required when AUTH_MODE=oidc',
      'OIDC_CLIENT_ID: required when AUTH_MODE=oidc',
    ]);
    const { problems } = load({
      ...OIDC,
      OIDC_ISSUER: 'ftp://id.example.com',
      OIDC_ALGORITHMS: 'HS256,none',
      OIDC_CLOCK_SKEW_SECONDS: '3600',
      OIDC_SCOPES: 'profile',
      AUTH_OPEN: 'everyone',
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'AUTH_OPEN',
      'OIDC_ALGORITHMS.0',
      'OIDC_ALGORITHMS.1',
      'OIDC_CLOCK_SKEW_SECONDS',
      'OIDC_ISSUER',
      'OIDC_SCOPES',
    ]);
  });

  it('reads the policy settings', () => {
    const { config } = load({
      ...OIDC,
      AUTH_SHARE_GROUP: 'sharers',
      AUTH_OPEN: 'sender-choice',
      AUTH_MAX_SHARES_PER_PERSON: '0',
      AUTH_MAX_RECEIVERS_PER_SHARE: '3',
      OIDC_ALGORITHMS: 'ES256 RS256',
    });
    expect(config.mode === 'oidc' && config.policy).toEqual({
      shareGroup: 'sharers',
      open: 'sender-choice',
      maxSharesPerPerson: 0,
      maxReceiversPerShare: 3,
    });
    expect(config.mode === 'oidc' && config.oidc.algorithms).toEqual(['ES256', 'RS256']);
  });
});
