import { RegisterMode, type RegisterRequest } from '@ephemeral/protocol/presence';
import {
  InvalidArgumentError,
  parseBatchLookupRequest,
  parseKeepAliveRequest,
  parseLookupRequest,
  parseRegisterRequest,
  parseRevokeRequest,
  parseWatchRequest,
} from './presence-request-validation';

const PEER = '11111111-1111-4111-8111-111111111111';
const HASH = new Uint8Array(32).fill(7);

function register(overrides: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    peerId: PEER,
    gatewayId: 'gateway-7f9c.default:1',
    ttlSeconds: 10,
    mode: RegisterMode.REGISTER_MODE_NEW,
    resumeTokenSha256: HASH,
    ...overrides,
  };
}

function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error.field;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('presence request validation', () => {
  it('turns a valid Register into a command', () => {
    expect(parseRegisterRequest(register({ mode: RegisterMode.REGISTER_MODE_RESUME }))).toEqual({
      peerId: PEER,
      gatewayId: 'gateway-7f9c.default:1',
      mode: 'resume',
      requestedTtlSeconds: 10,
      resumeTokenSha256: HASH,
    });
  });

  it.each([
    ['a missing peer ID', { peerId: '' }, 'peer_id'],
    ['an upper-case peer ID', { peerId: 'AAAAAAAA-1111-4111-8111-111111111111' }, 'peer_id'],
    ['a non-v4 UUID', { peerId: '11111111-1111-1111-8111-111111111111' }, 'peer_id'],
    ['a missing gateway ID', { gatewayId: '' }, 'gateway_id'],
    ['a gateway ID with spaces', { gatewayId: 'gw 1' }, 'gateway_id'],
    ['an overlong gateway ID', { gatewayId: 'g'.repeat(129) }, 'gateway_id'],
    ['mode UNSPECIFIED', { mode: RegisterMode.REGISTER_MODE_UNSPECIFIED }, 'mode'],
    ['an unknown mode number', { mode: 9 as RegisterMode }, 'mode'],
    ['a missing resume hash', { resumeTokenSha256: new Uint8Array(0) }, 'resume_token_sha256'],
    ['a short resume hash', { resumeTokenSha256: new Uint8Array(31) }, 'resume_token_sha256'],
  ])('refuses Register with %s', (_case, overrides, field) => {
    expect(fieldOf(() => parseRegisterRequest(register(overrides)))).toBe(field);
  });

  it('names the offending entry in a keepalive batch', () => {
    const leases = [
      { peerId: PEER, fencingToken: 3 },
      { peerId: 'nope', fencingToken: 4 },
    ];
    expect(fieldOf(() => parseKeepAliveRequest({ gatewayId: 'gw', leases }))).toBe(
      'leases[1].peer_id',
    );
    expect(
      fieldOf(() =>
        parseKeepAliveRequest({ gatewayId: 'gw', leases: [{ peerId: PEER, fencingToken: 0 }] }),
      ),
    ).toBe('leases[0].fencing_token');
    expect(fieldOf(() => parseKeepAliveRequest({ gatewayId: '', leases: [] }))).toBe('gateway_id');
  });

  it('bounds batch sizes at 1000', () => {
    const ok = Array.from({ length: 1000 }, () => ({ peerId: PEER, fencingToken: 1 }));
    expect(parseKeepAliveRequest({ gatewayId: 'gw', leases: ok }).refs).toHaveLength(1000);
    const tooMany = [...ok, { peerId: PEER, fencingToken: 1 }];
    expect(fieldOf(() => parseKeepAliveRequest({ gatewayId: 'gw', leases: tooMany }))).toBe(
      'leases',
    );
    expect(fieldOf(() => parseBatchLookupRequest({ peerIds: Array(1001).fill(PEER) }))).toBe(
      'peer_ids',
    );
    expect(fieldOf(() => parseWatchRequest({ peerIds: Array(1001).fill(PEER) }))).toBe('peer_ids');
  });

  it('validates Revoke, Lookup, BatchLookup and Watch', () => {
    expect(parseRevokeRequest({ peerId: PEER, fencingToken: 5 })).toEqual({
      peerId: PEER,
      fencingToken: 5,
    });
    expect(fieldOf(() => parseRevokeRequest({ peerId: PEER, fencingToken: 0 }))).toBe(
      'fencing_token',
    );
    expect(parseLookupRequest({ peerId: PEER })).toBe(PEER);
    expect(fieldOf(() => parseLookupRequest({ peerId: 'x' }))).toBe('peer_id');
    expect(fieldOf(() => parseBatchLookupRequest({ peerIds: [PEER, ''] }))).toBe('peer_ids[1]');
    expect(parseWatchRequest({ peerIds: [] })).toEqual({ peerIds: [], subjects: [] });
    expect(parseWatchRequest({ peerIds: [], subjects: { subjects: ['u-1'] } }).subjects).toEqual([
      'u-1',
    ]);
    expect(fieldOf(() => parseWatchRequest({ peerIds: [], subjects: { subjects: [''] } }))).toBe(
      'subjects.subjects[0]',
    );
  });

  it('puts the field name in the message', () => {
    expect(() => parseLookupRequest({ peerId: '' })).toThrow('peer_id: is required');
  });
});
