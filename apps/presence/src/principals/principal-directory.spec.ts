import type { Lease, Principal } from '@ephemeral/protocol/presence';

import { MAX_PEERS_PER_SUBJECT, PrincipalDirectory } from './principal-directory';

const lease = (peerId: string, fencingToken: number): Lease => ({
  peerId,
  gatewayId: 'g',
  fencingToken,
  ttlSeconds: 15,
  expiresAtUnixMs: 0,
  registeredAtUnixMs: 0,
});
const alice = (sharing = false): Principal => ({
  subject: 'u-alice',
  issuer: 'https://id',
  displayName: 'Alice',
  emailDomain: 'example.com',
  sharing,
});

describe('PrincipalDirectory', () => {
  it('lists what a subject holds and forgets a lease only for its own grant', () => {
    const directory = new PrincipalDirectory();
    directory.record(lease('p1', 1), alice(true));
    directory.record(lease('p2', 2), alice());
    expect(directory.peersOf('u-alice')).toEqual([
      { peerId: 'p1', fencingToken: 1, sharing: true },
      { peerId: 'p2', fencingToken: 2, sharing: false },
    ]);
    expect(directory.subjectOf(lease('p1', 1))).toBe('u-alice');
    // p1 granted again (resumed): the old grant's end does not forget the new one.
    directory.record(lease('p1', 3), alice(true));
    directory.forget(lease('p1', 1));
    expect(directory.subjectOf(lease('p1', 3))).toBe('u-alice');
    directory.forget(lease('p1', 3));
    expect(directory.peersOf('u-alice').map((held) => held.peerId)).toEqual(['p2']);
  });

  it('a grant without a principal clears the ID; a subject keeps at most the newest entries', () => {
    const directory = new PrincipalDirectory();
    directory.record(lease('p1', 1), alice());
    directory.record(lease('p1', 2), undefined);
    expect(directory.peersOf('u-alice')).toEqual([]);
    for (let i = 0; i <= MAX_PEERS_PER_SUBJECT; i++)
      directory.record(lease(`q${i}`, i + 10), alice());
    const held = directory.peersOf('u-alice');
    expect(held).toHaveLength(MAX_PEERS_PER_SUBJECT);
    expect(held[0].peerId).toBe('q1');
  });
});
