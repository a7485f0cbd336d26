import { OriginPolicy } from './origin-policy';

describe('OriginPolicy', () => {
  const policy = new OriginPolicy(['https://app.example.org', 'http://localhost:4200']);

  it.each([
    ['https://share.example.com', 'share.example.com'],
    ['https://share.example.com', 'share.example.com:443'],
    ['https://SHARE.example.com:443', 'Share.Example.Com'],
    ['http://127.0.0.1:8080', '127.0.0.1:8080'],
    ['http://[::1]:8080', '[::1]:8080'],
  ])('lets the app its gateway serves in: Origin %s, Host %s', (origin, host) => {
    expect(policy.check(origin, host)).toBe('same-host');
  });

  it.each([
    ['https://evil.example', 'share.example.com'],
    ['https://share.example.com.evil.example', 'share.example.com'],
    ['https://share.example.com', 'share.example.com:8443'],
    ['https://share.example.com:8443', 'share.example.com'],
    ['http://127.0.0.1:8081', '127.0.0.1:8080'],
    ['null', 'share.example.com'],
    ['file://', 'share.example.com'],
    ['chrome-extension://abcdef', 'share.example.com'],
    ['not a url', 'share.example.com'],
    ['https://share.example.com', 'share.example.com/evil'],
    ['https://share.example.com', 'x@share.example.com'],
    ['https://share.example.com', undefined],
  ])('refuses Origin %s on Host %s', (origin, host) => {
    expect(policy.check(origin, host)).toBe('refused');
  });

  it('lets listed origins in, whatever the Host', () => {
    expect(policy.check('https://app.example.org', 'share.example.com')).toBe('listed');
    expect(policy.check('https://APP.example.org:443', 'share.example.com')).toBe('listed');
    expect(policy.check('http://localhost:4200', '127.0.0.1:8080')).toBe('listed');
    expect(policy.check('https://localhost:4200', '127.0.0.1:8080')).toBe('refused');
  });

  it('lets a client without Origin in (not a browser)', () => {
    expect(policy.check(undefined, 'share.example.com')).toBe('absent');
    expect(new OriginPolicy([]).check(undefined, undefined)).toBe('absent');
  });
});
