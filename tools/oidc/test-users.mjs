// The test provider's users. Groups: `sharers` may create shares where the
// deployment sets AUTH_SHARE_GROUP=sharers; carol belongs to none.
export const TEST_USERS = [
  {
    id: 'u-alice',
    username: 'alice',
    password: 'alice-password',
    name: 'Alice Archer',
    email: 'alice@example.com',
    groups: ['sharers', 'staff'],
  },
  {
    id: 'u-bob',
    username: 'bob',
    password: 'bob-password',
    name: 'Bob Martin',
    email: 'bob@example.com',
    groups: ['staff'],
  },
  {
    id: 'u-carol',
    username: 'carol',
    password: 'carol-password',
    name: 'Carol Diaz',
    email: 'carol@example.org',
    groups: [],
  },
];
