// Short, friendly words, distinct when read aloud ("It's Calm Otter on my
// side"). 32 × 32 names: enough that the few receivers of one share rarely
// collide, and the peer ID stays shown beside it for when they do.
const ADJECTIVES = [
  'Amber',
  'Bold',
  'Brave',
  'Bright',
  'Calm',
  'Clever',
  'Cosy',
  'Eager',
  'Fair',
  'Gentle',
  'Glad',
  'Golden',
  'Happy',
  'Jolly',
  'Keen',
  'Kind',
  'Lively',
  'Lucky',
  'Mellow',
  'Merry',
  'Nimble',
  'Noble',
  'Proud',
  'Quick',
  'Quiet',
  'Rapid',
  'Silver',
  'Sunny',
  'Swift',
  'Tidy',
  'Witty',
  'Zesty',
];
const ANIMALS = [
  'Badger',
  'Beaver',
  'Bison',
  'Crane',
  'Dolphin',
  'Eagle',
  'Falcon',
  'Ferret',
  'Fox',
  'Gecko',
  'Heron',
  'Ibex',
  'Koala',
  'Lemur',
  'Lynx',
  'Marmot',
  'Moose',
  'Newt',
  'Otter',
  'Owl',
  'Panda',
  'Pelican',
  'Puffin',
  'Quokka',
  'Raven',
  'Robin',
  'Seal',
  'Sparrow',
  'Tiger',
  'Walrus',
  'Wolf',
  'Yak',
];

/**
 * A peer's friendly name, the same in every browser: a hash of its peer ID
 * (which both ends of a connection know) picks an adjective and an animal.
 * Nothing is sent for it and nothing about the person is in it.
 */
export function friendlyName(peerId: string): string {
  // FNV-1a, 32 bit: spreads similar IDs apart; no security role.
  let hash = 0x811c9dc5;
  for (let i = 0; i < peerId.length; i++) {
    hash ^= peerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${ADJECTIVES[hash % ADJECTIVES.length]} ${ANIMALS[(hash >>> 8) % ANIMALS.length]}`;
}
