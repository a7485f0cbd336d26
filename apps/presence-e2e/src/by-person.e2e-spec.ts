import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';

import { status } from '@grpc/grpc-js';
import {
  type ListBySubjectResponse,
  type Principal,
  PresenceEventType,
  RegisterMode,
} from '@ephemeral/protocol/presence';
import { DEFAULT_REDIS_URL, ensureRedis, workspaceRoot } from '@ephemeral/testing';

import { type PresenceUnderTest, startPresence } from './presence-under-test';
import { PresenceWatcher } from './presence-watcher';
import { unaryCall } from './unary-call';

// By-person presence (sign-in on, ADR 0022/0023): gateways record who holds
// a lease; other services ask which peers a subject holds, whether they are
// sharing now, and Watch one person's leases. Real server, real gRPC client,
// on each lease store: memory, the local Redis, and the local Redis Cluster
// (the principal and a per-subject index live in Redis then, ADR 0029).

const GATEWAY = 'gateway-by-person';
const hashOf = (token: string) => createHash('sha256').update(token).digest();

const person = (subject: string, sharing: boolean): Principal => ({
  subject,
  issuer: 'https://id.example.com',
  displayName: subject,
  emailDomain: 'example.com',
  sharing,
});

const RUN = randomUUID().slice(0, 8);
const CLUSTER_NODES = Array.from({ length: 6 }, (_, i) => `127.0.0.1:${17000 + i}`).join(',');

const STORES: ReadonlyArray<[name: string, env: () => Promise<Record<string, string>>]> = [
  ['memory', async () => ({})],
  [
    'Redis',
    async () => {
      await ensureRedis();
      return {
        LEASE_STORE: 'redis',
        REDIS_URL: DEFAULT_REDIS_URL,
        REDIS_KEY_PREFIX: `test:by-person:${RUN}:`,
      };
    },
  ],
  [
    'Redis Cluster',
    async () => {
      // Idempotent: starts only what is not running.
      const script = resolve(workspaceRoot, 'tools/redis/redis.sh');
      execFileSync('bash', [script, 'install'], { stdio: 'ignore', timeout: 120_000 });
      execFileSync('bash', [script, 'cluster-start'], { stdio: 'ignore', timeout: 60_000 });
      return {
        LEASE_STORE: 'redis',
        REDIS_CLUSTER_NODES: CLUSTER_NODES,
        REDIS_KEY_PREFIX: `test:by-person-cluster:${RUN}:`,
      };
    },
  ],
];

describe.each(STORES)(
  'presence by person on the %s store (real server, real gRPC client)',
  (_, storeEnv) => {
    let presence: PresenceUnderTest;

    beforeAll(async () => {
      presence = await startPresence(
        { ...(await storeEnv()), LEASE_REAPER_INTERVAL_MS: '100' },
        60_000,
      );
    }, 240_000);

    afterAll(async () => {
      expect(await presence?.stop()).toBe(0);
    });

    const register = (principal?: Principal, ttlSeconds = 10) =>
      unaryCall(presence.presence.register.bind(presence.presence), {
        peerId: randomUUID(),
        gatewayId: GATEWAY,
        ttlSeconds,
        mode: RegisterMode.REGISTER_MODE_NEW,
        resumeTokenSha256: hashOf('token'),
        principal,
      });

    const listBySubject = (subject: string, deadline?: number): Promise<ListBySubjectResponse> =>
      unaryCall(
        presence.presence.listBySubject.bind(presence.presence),
        { subject },
        deadline === undefined ? {} : { deadline },
      );

    const peerIdsOf = (response: ListBySubjectResponse) =>
      response.peers.map((peer) => peer.lease?.peerId).sort();

    it('lists the peers a subject holds and whether they are sharing; a revoked lease leaves the list', async () => {
      const subject = `alice-${randomUUID()}`;
      const sharing = await register(person(subject, true));
      const opening = await register(person(subject, false));
      await register(person(`bob-${randomUUID()}`, true));
      await register(); // anonymous

      const listed = await listBySubject(subject);
      expect(peerIdsOf(listed)).toEqual([sharing.lease?.peerId, opening.lease?.peerId].sort());
      expect(listed.sharing).toBe(true);
      expect(
        listed.peers.find((peer) => peer.lease?.peerId === sharing.lease?.peerId)?.sharing,
      ).toBe(true);

      await unaryCall(presence.presence.revoke.bind(presence.presence), {
        peerId: sharing.lease!.peerId,
        fencingToken: sharing.lease!.fencingToken,
      });
      const after = await listBySubject(subject);
      expect(peerIdsOf(after)).toEqual([opening.lease?.peerId]);
      expect(after.sharing).toBe(false);

      expect(await listBySubject(`nobody-${randomUUID()}`)).toEqual({ peers: [], sharing: false });
    });

    it('an expired lease is no longer the person’s', async () => {
      const subject = `carol-${randomUUID()}`;
      const watcher = new PresenceWatcher(presence.presence, {
        peerIds: [],
        subjects: { subjects: [subject] },
      });
      await watcher.ready;
      const { lease } = await register(person(subject, true), 1);
      expect((await listBySubject(subject)).sharing).toBe(true);
      await watcher.next(
        (event) =>
          event.type === PresenceEventType.PRESENCE_EVENT_TYPE_LEFT &&
          event.peerId === lease?.peerId,
        10_000,
      );
      expect(await listBySubject(subject)).toEqual({ peers: [], sharing: false });
      watcher.cancel();
    });

    it('Watch filtered by subject streams that person’s lease events only, stamped with the subject', async () => {
      const subject = `dave-${randomUUID()}`;
      const watcher = new PresenceWatcher(presence.presence, {
        peerIds: [],
        subjects: { subjects: [subject] },
      });
      await watcher.ready;
      const other = await register(person(`erin-${randomUUID()}`, true));
      const anonymous = await register();
      const mine = await register(person(subject, false));
      const registered = await watcher.next((event) => event.peerId === mine.lease?.peerId);
      expect(registered).toMatchObject({
        type: PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
        subject,
      });
      await unaryCall(presence.presence.revoke.bind(presence.presence), {
        peerId: mine.lease!.peerId,
        fencingToken: mine.lease!.fencingToken,
      });
      const left = await watcher.next(
        (event) => event.type === PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      );
      expect(left).toMatchObject({ peerId: mine.lease?.peerId, subject });
      // Events are in order on the stream: nothing of the others came before or between.
      expect(watcher.events.map((event) => event.peerId)).toEqual([
        mine.lease?.peerId,
        mine.lease?.peerId,
      ]);
      expect([other.lease?.peerId, anonymous.lease?.peerId]).not.toContain(registered.peerId);
      watcher.cancel();
    });

    it('same limits and errors as the rest: a missing or oversized subject, a passed deadline', async () => {
      await expect(listBySubject('')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      await expect(listBySubject('x'.repeat(257))).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
      });
      await expect(listBySubject('alice', Date.now() - 1_000)).rejects.toMatchObject({
        code: status.DEADLINE_EXCEEDED,
      });
      await expect(
        unaryCall(presence.presence.register.bind(presence.presence), {
          peerId: randomUUID(),
          gatewayId: GATEWAY,
          ttlSeconds: 10,
          mode: RegisterMode.REGISTER_MODE_NEW,
          resumeTokenSha256: hashOf('token'),
          principal: person('', false),
        }),
      ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      const badWatch = new PresenceWatcher(presence.presence, {
        peerIds: [],
        subjects: { subjects: [''] },
      });
      expect((await badWatch.ended).code).toBe(status.INVALID_ARGUMENT);
    });
  },
);
