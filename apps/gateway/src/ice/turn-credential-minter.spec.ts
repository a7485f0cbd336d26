import { createHmac } from 'node:crypto';

import { TurnCredentialMinter } from './turn-credential-minter';

const STUN = { urls: ['stun:stun.example.org:3478'], username: '', credential: '' };
const PEER = '0b7c5a52-4d55-4e8e-9d3b-2a7d1b3f6c11';
const SECRET = 'a-turn-secret-of-enough-length';
const NOW_MS = 1_800_000_000_500;

describe('TurnCredentialMinter', () => {
  it('passes the static ICE servers through when TURN is not configured', () => {
    const minter = new TurnCredentialMinter([STUN], null);
    expect(minter.iceServersFor(PEER)).toEqual([STUN]);
  });

  it('adds a TURN entry with "<expiry>:<peerId>" and base64(HMAC-SHA1(secret, username))', () => {
    const urls = [
      'turn:turn.example.org:3478?transport=udp',
      'turn:turn.example.org:3478?transport=tcp',
    ];
    const minter = new TurnCredentialMinter(
      [STUN],
      { urls, secret: SECRET, ttlSeconds: 3600 },
      () => NOW_MS,
    );
    const servers = minter.iceServersFor(PEER);
    expect(servers).toHaveLength(2);
    expect(servers[0]).toEqual(STUN);
    const turn = servers[1];
    expect(turn.urls).toEqual(urls);
    // Expiry = now (whole seconds) + TTL.
    expect(turn.username).toBe(`${1_800_000_000 + 3600}:${PEER}`);
    // Reference value computed independently, as coturn does.
    const expected = createHmac('sha1', SECRET).update(turn.username).digest('base64');
    expect(turn.credential).toBe(expected);
    expect(Buffer.from(turn.credential, 'base64')).toHaveLength(20);
    expect(JSON.stringify(servers)).not.toContain(SECRET);
  });

  it('mints a different credential per peer and per expiry', () => {
    let now = NOW_MS;
    const minter = new TurnCredentialMinter(
      [],
      { urls: ['turn:t:3478'], secret: SECRET, ttlSeconds: 60 },
      () => now,
    );
    const first = minter.iceServersFor(PEER)[0];
    const other = minter.iceServersFor('5d1f6a0e-8a0a-4c5e-b6a3-0f2f7c4c9d21')[0];
    now += 10_000;
    const later = minter.iceServersFor(PEER)[0];
    expect(other.credential).not.toBe(first.credential);
    expect(later.username).toBe(`${1_800_000_000 + 70}:${PEER}`);
    expect(later.credential).not.toBe(first.credential);
  });

  it('matches a known TURN REST API vector', () => {
    // username "1433895918:user", secret "secret" (independently computed
    // with `printf %s 1433895918:user | openssl dgst -sha1 -hmac secret -binary | base64`).
    const minter = new TurnCredentialMinter(
      [],
      { urls: ['turn:t'], secret: 'secret', ttlSeconds: 0 },
      () => 1_433_895_918_000,
    );
    const [turn] = minter.iceServersFor('user');
    expect(turn.username).toBe('1433895918:user');
    expect(turn.credential).toBe(KNOWN_CREDENTIAL);
  });
});

const KNOWN_CREDENTIAL = 'duY86vsmGEXM+Ma7pGS//SXJIv0=';
