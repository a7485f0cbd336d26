import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  type Admin,
  type Consumer,
  Kafka,
  type LogEntry,
  logLevel,
  type Producer,
  type SASLOptions,
} from 'kafkajs';

import { BusTopics } from '@ephemeral/protocol/presence';
import {
  builtAppEntry,
  DEFAULT_KAFKA_BROKERS,
  eventually,
  freePort,
  kafkaCredentialsDir,
  kafkaServiceEnv,
  kafkaServiceSasl,
  ServiceProcess,
  workspaceRoot,
} from '@ephemeral/testing';

// The local broker as tools/kafka/kafka.sh runs it (the global setup starts
// it): SASL on every listener, SCRAM-SHA-512 users `gateway` and `presence`
// with the ACLs of tools/kafka/provision.conf — the rights the Strimzi
// KafkaUsers of k8s/base/kafka/users.yaml grant (docs/security.md, "Kafka
// authentication and ACLs").
const RUN = randomBytes(4).toString('hex');
const SIGNALS = BusTopics.SIGNALS;
const PRESENCE_EVENTS = BusTopics.PRESENCE_EVENTS;

const closers: Array<{ disconnect(): Promise<void> }> = [];

/** A kafkajs client that gives up at once; `logs` collects its debug lines. */
function kafka(sasl: SASLOptions | undefined, logs?: LogEntry[]): Kafka {
  return new Kafka({
    clientId: `kafka-acls-e2e-${RUN}`,
    brokers: [DEFAULT_KAFKA_BROKERS],
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 0 },
    logLevel: logs ? logLevel.DEBUG : logLevel.NOTHING,
    logCreator: () => (entry) => void logs?.push(entry),
  });
}

async function connectedAdmin(sasl: SASLOptions | undefined): Promise<Admin> {
  const admin = kafka(sasl).admin();
  closers.push(admin);
  await admin.connect();
  return admin;
}

async function connectedProducer(sasl: SASLOptions): Promise<Producer> {
  const producer = kafka(sasl).producer({ allowAutoTopicCreation: false });
  closers.push(producer);
  await producer.connect();
  return producer;
}

/**
 * Joins `groupId` on `topic`: resolves 'joined', or the type of the error
 * the broker gave for the group coordinator lookup (kafkajs itself only
 * reports "Failed to find group coordinator"; its debug line has the code).
 */
/**
 * Joins `groupId` once and says how it went. A broker's first group waits
 * for `__consumer_offsets` to be created (GROUP_COORDINATOR_NOT_AVAILABLE,
 * a retriable answer on a fresh broker), so that answer is tried again.
 */
async function joinGroup(sasl: SASLOptions, groupId: string, topic: string): Promise<string> {
  return eventually(
    async () => {
      const outcome = await joinGroupOnce(sasl, groupId, topic);
      if (outcome === 'GROUP_COORDINATOR_NOT_AVAILABLE') throw new Error('coordinator starting');
      return outcome;
    },
    { timeoutMs: 30_000, intervalMs: 500, description: `joining ${groupId}` },
  );
}

async function joinGroupOnce(sasl: SASLOptions, groupId: string, topic: string): Promise<string> {
  const logs: LogEntry[] = [];
  const consumer: Consumer = kafka(sasl, logs).consumer({
    groupId,
    retry: { retries: 0, restartOnFailure: async () => false },
  });
  closers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  return new Promise((resolveJoin) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolveJoin('joined'));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const lookup = logs.find((entry) => entry.log.message === 'Tried to find group coordinator');
      const error = lookup?.log['error'] as { type?: string } | undefined;
      resolveJoin(error?.type ?? `${payload.error.name}: ${payload.error.message}`);
    });
    void consumer.run({ eachMessage: async () => undefined }).catch(() => undefined);
  });
}

/**
 * The broker's error code for a refused call: kafkajs puts it on the error,
 * or on its cause when it gave up at once (NonRetriable).
 */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'accepted';
  } catch (error) {
    const { type, cause } = error as { type?: string; cause?: { type?: string } };
    return type ?? cause?.type ?? String(error);
  }
}

/** The per-topic error types of a refused CreateTopics, or 'created'. */
async function createTopic(admin: Admin, topic: string): Promise<string[] | 'created'> {
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    return 'created';
  } catch (error) {
    return ((error as { errors?: Array<{ type: string }> }).errors ?? []).map((e) => e.type);
  }
}

describe('Kafka authentication and ACLs (local broker, as in k8s)', () => {
  let gateway: SASLOptions;
  let presence: SASLOptions;

  beforeAll(() => {
    gateway = kafkaServiceSasl('gateway');
    presence = kafkaServiceSasl('presence');
  });

  afterAll(async () => {
    await Promise.all(closers.map((client) => client.disconnect().catch(() => undefined)));
  });

  describe('authentication', () => {
    it('refuses a client without credentials: the broker closes the connection', async () => {
      // The broker answers ApiVersions before any login, so connect() may
      // succeed; the first real request is where it hangs up.
      const anonymous = async () => (await connectedAdmin(undefined)).listTopics();
      await expect(anonymous()).rejects.toMatchObject({ name: 'KafkaJSConnectionClosedError' });
    });

    it('refuses a wrong password and an unknown user', async () => {
      const refused = {
        name: 'KafkaJSSASLAuthenticationError',
        message: expect.stringMatching(/invalid credentials with SASL mechanism SCRAM-SHA-512/),
      };
      await expect(
        connectedAdmin({ ...gateway, password: 'not-the-password' } as SASLOptions),
      ).rejects.toMatchObject(refused);
      await expect(
        connectedAdmin({ ...gateway, username: `nobody-${RUN}` } as SASLOptions),
      ).rejects.toMatchObject(refused);
    });

    it('takes a service user only over SCRAM: PLAIN knows nobody but the admin', async () => {
      const plain = { mechanism: 'plain', username: 'gateway', password: readPassword('gateway') };
      await expect(connectedAdmin(plain as SASLOptions)).rejects.toMatchObject({
        name: 'KafkaJSSASLAuthenticationError',
      });
    });

    it('logs a service in with its SCRAM-SHA-512 password', async () => {
      const admin = await connectedAdmin(gateway);
      await expect(admin.listTopics()).resolves.toEqual(
        expect.arrayContaining([SIGNALS, PRESENCE_EVENTS]),
      );
    });
  });

  describe('the gateway user', () => {
    it('may not write presence events, nor create topics', async () => {
      const producer = await connectedProducer(gateway);
      await expect(
        refusal(
          producer.send({ topic: PRESENCE_EVENTS, messages: [{ key: 'k', value: 'forged' }] }),
        ),
      ).resolves.toBe('TOPIC_AUTHORIZATION_FAILED');
      const admin = await connectedAdmin(gateway);
      await expect(createTopic(admin, `kafka-acls-e2e-${RUN}`)).resolves.toEqual([
        'TOPIC_AUTHORIZATION_FAILED',
      ]);
      // Not even its own topic: the platform provisions it (the gateway
      // treats this refusal as "already provisioned", ensureTopic).
      await expect(createTopic(admin, SIGNALS)).resolves.toEqual(['TOPIC_AUTHORIZATION_FAILED']);
    });

    it('reads both topics, in gateway-* groups only', async () => {
      const admin = await connectedAdmin(gateway);
      await expect(admin.fetchTopicOffsets(SIGNALS)).resolves.toHaveLength(12);
      await expect(admin.fetchTopicOffsets(PRESENCE_EVENTS)).resolves.not.toHaveLength(0);
      await expect(
        joinGroup(gateway, `gateway-acl-e2e-${RUN}.presence-events.a`, PRESENCE_EVENTS),
      ).resolves.toBe('joined');
      await expect(
        joinGroup(gateway, `presence-watch.acl-e2e-${RUN}.a`, PRESENCE_EVENTS),
      ).resolves.toBe('GROUP_AUTHORIZATION_FAILED');
    });
  });

  describe('the presence user', () => {
    it('may neither write nor read signals, nor even see the topic', async () => {
      const producer = await connectedProducer(presence);
      await expect(
        refusal(producer.send({ topic: SIGNALS, messages: [{ key: 'k', value: 'forged' }] })),
      ).resolves.toBe('TOPIC_AUTHORIZATION_FAILED');
      const admin = await connectedAdmin(presence);
      await expect(refusal(admin.fetchTopicOffsets(SIGNALS))).resolves.toBe(
        'TOPIC_AUTHORIZATION_FAILED',
      );
      const topics = await admin.listTopics();
      expect(topics).toContain(PRESENCE_EVENTS);
      expect(topics).not.toContain(SIGNALS);
    });

    it('reads presence events in presence-watch.* groups, and may not join a gateway group', async () => {
      await expect(
        joinGroup(presence, `presence-watch.acl-e2e-${RUN}.b`, PRESENCE_EVENTS),
      ).resolves.toBe('joined');
      await expect(
        joinGroup(presence, `gateway-acl-e2e-${RUN}.signals.b`, PRESENCE_EVENTS),
      ).resolves.toBe('GROUP_AUTHORIZATION_FAILED');
    });
  });

  describe('the gateway process', () => {
    it('with a wrong password comes up not ready, and says the broker refused the login', async () => {
      const wrongPassword = join(workspaceRoot, 'tmp', `kafka-acls-e2e-${RUN}.password`);
      mkdirSync(join(workspaceRoot, 'tmp'), { recursive: true });
      writeFileSync(wrongPassword, 'not-the-password\n', { mode: 0o600 });
      const gatewayProcess = await ServiceProcess.start({
        name: 'gateway-wrong-password',
        entry: builtAppEntry('gateway'),
        env: {
          HOST: '127.0.0.1',
          PORT: '0',
          METRICS_PORT: '0',
          GATEWAY_ID: `gw-acl-e2e-${RUN}`,
          PRESENCE_URL: `127.0.0.1:${await freePort()}`,
          SIGNAL_BUS: 'kafka',
          KAFKA_BROKERS: DEFAULT_KAFKA_BROKERS,
          ...kafkaServiceEnv('gateway'),
          KAFKA_SASL_PASSWORD_FILE: wrongPassword,
        },
        readyWhen: /authentication failed/,
        readyTimeoutMs: 30_000,
      });
      try {
        // It waits up to 15 s for the signal bus, then 15 s for the presence
        // events, and listens anyway (retrying in the background).
        const listening = await gatewayProcess.waitForLine(/gateway listening/, 60_000);
        const { port } = JSON.parse(listening) as { port: number };
        const readiness = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(readiness.status).toBe(503);
        expect(await readiness.json()).toMatchObject({
          reasons: expect.arrayContaining(['the signal bus is not ready']),
        });
        expect(gatewayProcess.output.join('\n')).toMatch(
          /SASL SCRAM SHA512 authentication failed: .*invalid credentials/,
        );
        expect(gatewayProcess.output.join('\n')).not.toContain(readPassword('gateway'));
      } finally {
        await gatewayProcess.stop();
        rmSync(wrongPassword, { force: true });
      }
    }, 120_000);

    it('stops at boot with exit code 2 on half a login', async () => {
      const gatewayProcess = await ServiceProcess.start({
        name: 'gateway-half-login',
        entry: builtAppEntry('gateway'),
        env: {
          HOST: '127.0.0.1',
          PORT: '0',
          METRICS_PORT: '0',
          SIGNAL_BUS: 'kafka',
          KAFKA_BROKERS: DEFAULT_KAFKA_BROKERS,
          KAFKA_SASL_USERNAME: 'gateway',
        },
        readyWhen: /invalid gateway configuration/,
      });
      await gatewayProcess.closed;
      expect(gatewayProcess.exitCode).toBe(2);
      expect(gatewayProcess.output.join('\n')).toMatch(/KAFKA_SASL_MECHANISM: required with/);
    });
  });
});

function readPassword(user: string): string {
  return readFileSync(join(kafkaCredentialsDir(), `${user}.password`), 'utf8');
}
