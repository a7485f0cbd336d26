import { type Consumer, Kafka, logLevel } from 'kafkajs';

import {
  type AuditRecord as AuditRecordType,
  AuditRecord,
  ShareAccess,
  TransferOutcome,
  TransferResult,
} from '@ephemeral/protocol';
import {
  DEFAULT_KAFKA_BROKERS,
  ensureKafka,
  eventually,
  GatewayStack,
  kafkaServiceEnv,
  freePort,
  kafkaServiceSasl,
  metricsPortOf,
  MetricsSnapshot,
  SignalingClient,
  signals,
} from '@ephemeral/testing';

import { AUDIT_TOPIC, ensureAuditProvisioned } from './audit-topic';

// The audit trail without sign-in (AUTH_MODE off, AUDIT_SINK=kafka): the
// built gateway writes the records of anonymous pages — who is the peer ID
// it assigned, no identity — and counts what it wrote on /metrics. Read back
// from the local broker as `audit-reader`, as a SIEM would.

const RUN = `${process.pid}-${Date.now()}`;

let stack: GatewayStack;
let consumer: Consumer | undefined;
const clients: SignalingClient[] = [];
const seen: { key: string; record: AuditRecordType }[] = [];

async function welcomed(hello: Parameters<SignalingClient['hello']>[0]) {
  const client = await SignalingClient.connect(stack.wsUrl);
  clients.push(client);
  await client.hello(hello);
  return client;
}

const eventsOf = (sharePeerId: string) =>
  seen.filter((entry) => entry.key === sharePeerId).map((entry) => entry.record);

beforeAll(async () => {
  await ensureKafka();
  await ensureAuditProvisioned(`audit-anonymous-admin-${RUN}`);
  stack = await GatewayStack.start({
    gatewayEnv: {
      GATEWAY_ID: `gateway-audit-anonymous-${RUN}`,
      KAFKA_BROKERS: DEFAULT_KAFKA_BROKERS,
      ...kafkaServiceEnv('gateway'),
      AUDIT_SINK: 'kafka',
    },
  });
  consumer = new Kafka({
    clientId: `audit-anonymous-${RUN}`,
    brokers: [DEFAULT_KAFKA_BROKERS],
    sasl: kafkaServiceSasl('audit-reader'),
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `audit-reader.anonymous-${RUN}` });
  await consumer.connect();
  await consumer.subscribe({ topic: AUDIT_TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value || !message.key) return;
      seen.push({ key: message.key.toString(), record: AuditRecord.decode(message.value) });
    },
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await consumer?.disconnect();
  await stack?.stop();
});

describe('audit without sign-in (AUTH_MODE off, AUDIT_SINK=kafka)', () => {
  it('tells the portal to declare its shares, writes anonymous records, and counts them on /metrics', async () => {
    // The portal reads this to declare its share even with sign-in off.
    const settings = await fetch(`${stack.httpUrl}/auth/settings`);
    expect(await settings.json()).toEqual({ mode: 'off', audit: true });
    const before = await MetricsSnapshot.scrape(stack.gatewayMetricsPort);

    const sender = await welcomed({ share: { access: 0 } });
    const receiver = await welcomed({});
    expect(sender.welcome?.authenticated).toBeUndefined();
    receiver.signal(sender.peerId, signals.offer());
    for (let taken = 0; taken < 50; taken++) {
      const frame = await sender.next('signal');
      if (frame.signal?.payload?.$case === 'offer') break;
    }
    sender.signal(receiver.peerId, signals.answer());
    sender.send({
      seq: sender.nextSeq(),
      kind: {
        $case: 'reportTransfer',
        value: {
          receiverPeerId: receiver.peerId,
          result: TransferResult.TRANSFER_RESULT_FINISHED,
          fileCount: 3,
          byteCount: 4_096,
          failureReason: '',
          fileNames: [],
        },
      },
    });

    await eventually(() => expect(eventsOf(sender.peerId)).toHaveLength(3), {
      timeoutMs: 30_000,
    });
    expect(sender.pending('error')).toBe(0);
    const senderActor = { peerId: sender.peerId };
    const receiverActor = { peerId: receiver.peerId };
    const byKind = new Map(eventsOf(sender.peerId).map((record) => [record.event?.$case, record]));
    for (const record of byKind.values()) {
      expect(record.gatewayId).toBe(`gateway-audit-anonymous-${RUN}`);
    }
    expect(byKind.get('shareOpened')?.event).toEqual({
      $case: 'shareOpened',
      value: { sender: senderActor, access: ShareAccess.SHARE_ACCESS_LINK },
    });
    expect(byKind.get('receiverJoined')?.event).toEqual({
      $case: 'receiverJoined',
      value: { sender: senderActor, receiver: receiverActor },
    });
    expect(byKind.get('transferEnded')?.event).toEqual({
      $case: 'transferEnded',
      value: {
        sender: senderActor,
        receiver: receiverActor,
        outcome: TransferOutcome.TRANSFER_OUTCOME_FINISHED,
        fileCount: 3,
        byteCount: 4_096,
        failureReason: '',
        fileNames: [],
      },
    });

    // Published = acknowledged by the broker; nothing lost.
    await eventually(
      async () => {
        const after = await MetricsSnapshot.scrape(stack.gatewayMetricsPort);
        expect(after.delta(before, 'ephemeral_gateway_audit_records_published_total')).toBe(3);
        expect(
          after.value('ephemeral_gateway_audit_records_lost_total', { reason: 'failed' }),
        ).toBe(0);
        expect(
          after.value('ephemeral_gateway_audit_records_lost_total', { reason: 'dropped' }),
        ).toBe(0);
      },
      { timeoutMs: 10_000 },
    );
  }, 90_000);

  it('counts a record the broker never took as lost (reason failed), logs it, and keeps serving', async () => {
    // A gateway whose audit broker is a closed port: nothing listens there.
    const { gateway, port } = await GatewayStack.startGateway(stack.presencePort, {
      GATEWAY_ID: `gateway-audit-no-broker-${RUN}`,
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      AUDIT_SINK: 'kafka',
    });
    try {
      const metricsPort = metricsPortOf(gateway);
      if (metricsPort === null) throw new Error('the gateway logged no metrics port');
      const client = await SignalingClient.connect(`ws://127.0.0.1:${port}/ws`);
      clients.push(client);
      await client.hello({ share: { access: 0 } });
      const lost = await gateway.waitForLogRecord(
        (record) => /^audit record not written/.test(String(record['msg'])),
        30_000,
      );
      expect(lost['event']).toBe('shareOpened');
      await eventually(
        async () => {
          const metrics = await MetricsSnapshot.scrape(metricsPort);
          expect(
            metrics.value('ephemeral_gateway_audit_records_lost_total', { reason: 'failed' }),
          ).toBe(1);
          expect(metrics.value('ephemeral_gateway_audit_records_published_total')).toBe(0);
        },
        { timeoutMs: 10_000 },
      );
      // Signaling goes on without the broker.
      const other = await SignalingClient.connect(`ws://127.0.0.1:${port}/ws`);
      clients.push(other);
      expect((await other.hello({})).peerId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await gateway.stop();
    }
  }, 90_000);
});
