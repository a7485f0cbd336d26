import { type Consumer, Kafka, logLevel } from 'kafkajs';

import {
  type AuditRecord as AuditRecordType,
  AuditRecord,
  ErrorCode,
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
  kafkaServiceSasl,
  SignalingClient,
  signals,
} from '@ephemeral/testing';

import { signIn, type Tokens } from './oidc-login';
import { AUDIT_TOPIC, ensureAuditProvisioned } from './audit-topic';
import { OidcProviderProcess } from './oidc-provider-process';

// The audit trail end to end with real parts: the test OpenID Provider signs
// alice and bob in, the built gateway (AUDIT_SINK=kafka, logged in as the
// `gateway` Kafka user, which may only append) writes the records, and this
// test reads them back from the local broker as `audit-reader` — the SIEM's
// login with its ACLs (tools/kafka/provision.conf, k8s/base/kafka/users.yaml).

const RUN = `${process.pid}-${Date.now()}`;
// Things that must never reach the trail: they are in the signals and the
// reports this test sends. (Addresses: the issuer's URL is 127.0.0.1 too, so
// the absence of client IPs is shown by the exact record contents instead.)
const SDP_MARKER = 'audit-e2e-sdp-must-not-leak';
const FILE_NAME = 'quarterly-payroll-must-not-leak.xlsx';
const CANDIDATE_MARKER = 'typ host';

let provider: OidcProviderProcess;
let stack: GatewayStack;
let alice: Tokens;
let bob: Tokens;
let consumer: Consumer | undefined;
const clients: SignalingClient[] = [];
/** Every audit record read since the consumer joined, with its key and raw bytes. */
const seen: { key: string; raw: Buffer; record: AuditRecordType }[] = [];

async function welcomed(hello: Parameters<SignalingClient['hello']>[0]) {
  const client = await SignalingClient.connect(stack.wsUrl);
  clients.push(client);
  await client.hello(hello);
  return client;
}

function recordsOf(sharePeerId: string) {
  return seen.filter((entry) => entry.key === sharePeerId);
}

function events(sharePeerId: string, kind: NonNullable<AuditRecordType['event']>['$case']) {
  return recordsOf(sharePeerId).filter((entry) => entry.record.event?.$case === kind);
}

async function reportAndExpectError(
  client: SignalingClient,
  report: Parameters<typeof reportFrame>[1],
) {
  const seq = client.nextSeq();
  client.send(reportFrame(seq, report));
  const error = await client.next('error');
  expect(error.seq).toBe(seq);
  return error;
}

function reportFrame(
  seq: number,
  report: {
    receiverPeerId: string;
    result: TransferResult;
    fileCount: number;
    byteCount: number;
    failureReason?: string;
    fileNames?: string[];
  },
) {
  return {
    seq,
    kind: {
      $case: 'reportTransfer' as const,
      value: { failureReason: '', fileNames: [], ...report },
    },
  };
}

beforeAll(async () => {
  await ensureKafka();
  await ensureAuditProvisioned(`audit-e2e-admin-${RUN}`);
  provider = await OidcProviderProcess.start();
  stack = await GatewayStack.start({
    gatewayEnv: provider.gatewayEnv({
      // Anonymous receivers may open links: their records carry a peer ID only.
      AUTH_OPEN: 'link',
      KAFKA_BROKERS: DEFAULT_KAFKA_BROKERS,
      ...kafkaServiceEnv('gateway'),
      AUDIT_SINK: 'kafka',
      // A small budget, so the test can reach it.
      AUDIT_REPORTS_BURST: '4',
      AUDIT_REPORTS_PER_MINUTE: '1',
    }),
  });
  [alice, bob] = await Promise.all([
    signIn(provider.issuer, 'alice', 'alice-password'),
    signIn(provider.issuer, 'bob', 'bob-password'),
  ]);
  consumer = new Kafka({
    clientId: `audit-e2e-${RUN}`,
    brokers: [DEFAULT_KAFKA_BROKERS],
    sasl: kafkaServiceSasl('audit-reader'),
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `audit-reader.e2e-${RUN}` });
  await consumer.connect();
  // From the beginning: records are told apart by this run's peer IDs.
  await consumer.subscribe({ topic: AUDIT_TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value || !message.key) return;
      seen.push({
        key: message.key.toString(),
        raw: message.value,
        record: AuditRecord.decode(message.value),
      });
    },
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await consumer?.disconnect();
  await stack?.stop();
  await provider?.stop();
});

describe('audit to Kafka (AUDIT_SINK=kafka)', () => {
  it('writes who opened, joined, finished and failed, with counts, and never SDP, candidates, tokens or file names', async () => {
    const startedAt = Date.now();
    const sender = await welcomed({ accessToken: alice.accessToken, share: { access: 0 } });
    const receiver = await welcomed({ accessToken: bob.accessToken });
    const anonymous = await welcomed({});
    const senderId = sender.peerId;

    // Bob opens the link: offer and candidates (SDP marker inside), sender answers.
    receiver.signal(senderId, signals.offer(`v=0\r\ns=${SDP_MARKER}\r\n`));
    receiver.signal(senderId, signals.candidate(1));
    sender.signal(receiver.peerId, signals.answer(`v=0\r\ns=${SDP_MARKER}-answer\r\n`));
    anonymous.signal(senderId, signals.offer(`v=0\r\ns=${SDP_MARKER}-anon\r\n`));
    // A second offer from Bob (an ICE restart) is not a second join.
    receiver.signal(senderId, signals.offer(`v=0\r\ns=${SDP_MARKER}-restart\r\n`));
    for (let offers = 0; offers < 3;) {
      const frame = await sender.next('signal');
      if (frame.signal?.payload?.$case === 'offer') offers += 1;
    }

    // The sender's page reports: Bob finished (with names the gateway must drop),
    // the anonymous receiver failed.
    sender.send(
      reportFrame(sender.nextSeq(), {
        receiverPeerId: receiver.peerId,
        result: TransferResult.TRANSFER_RESULT_FINISHED,
        fileCount: 2,
        byteCount: 5_242_880,
        fileNames: [FILE_NAME, 'b.txt'],
      }),
    );
    sender.send(
      reportFrame(sender.nextSeq(), {
        receiverPeerId: anonymous.peerId,
        result: TransferResult.TRANSFER_RESULT_FAILED,
        fileCount: 1,
        byteCount: 1_000,
        failureReason: 'failed',
      }),
    );

    await eventually(
      () => {
        expect(events(senderId, 'shareOpened')).toHaveLength(1);
        expect(events(senderId, 'receiverJoined')).toHaveLength(2);
        expect(events(senderId, 'transferEnded')).toHaveLength(2);
      },
      { timeoutMs: 30_000 },
    );
    expect(sender.pending('error')).toBe(0);

    const aliceIdentity = {
      subject: 'u-alice',
      issuer: provider.issuer,
      displayName: 'Alice Archer',
      email: 'alice@example.com',
      emailDomain: 'example.com',
    };
    const bobIdentity = {
      subject: 'u-bob',
      issuer: provider.issuer,
      displayName: 'Bob Martin',
      email: 'bob@example.com',
      emailDomain: 'example.com',
    };
    const senderActor = { peerId: senderId, identity: aliceIdentity };
    for (const { record } of recordsOf(senderId)) {
      expect(record.recordId).toMatch(/^[0-9a-f-]{36}$/);
      expect(record.occurredAtUnixMs).toBeGreaterThanOrEqual(startedAt);
      expect(record.occurredAtUnixMs).toBeLessThanOrEqual(Date.now());
      expect(record.gatewayId).not.toBe('');
    }
    expect(events(senderId, 'shareOpened')[0].record.event).toEqual({
      $case: 'shareOpened',
      value: { sender: senderActor, access: ShareAccess.SHARE_ACCESS_LINK },
    });
    expect(events(senderId, 'receiverJoined').map((entry) => entry.record.event)).toEqual([
      {
        $case: 'receiverJoined',
        value: {
          sender: senderActor,
          receiver: { peerId: receiver.peerId, identity: bobIdentity },
        },
      },
      {
        $case: 'receiverJoined',
        value: { sender: senderActor, receiver: { peerId: anonymous.peerId } },
      },
    ]);
    expect(events(senderId, 'transferEnded').map((entry) => entry.record.event)).toEqual([
      {
        $case: 'transferEnded',
        value: {
          sender: senderActor,
          receiver: { peerId: receiver.peerId, identity: bobIdentity },
          outcome: TransferOutcome.TRANSFER_OUTCOME_FINISHED,
          fileCount: 2,
          byteCount: 5_242_880,
          failureReason: '',
          fileNames: [],
        },
      },
      {
        $case: 'transferEnded',
        value: {
          sender: senderActor,
          receiver: { peerId: anonymous.peerId },
          outcome: TransferOutcome.TRANSFER_OUTCOME_FAILED,
          fileCount: 1,
          byteCount: 1_000,
          failureReason: 'failed',
          fileNames: [],
        },
      },
    ]);

    // Byte for byte: nothing secret in any record of this share.
    const raw = Buffer.concat(recordsOf(senderId).map((entry) => entry.raw)).toString('latin1');
    for (const secret of [
      SDP_MARKER,
      CANDIDATE_MARKER,
      FILE_NAME,
      alice.accessToken,
      bob.accessToken,
      sender.welcome?.resumeToken ?? 'no-resume-token',
      receiver.welcome?.resumeToken ?? 'no-resume-token',
    ]) {
      expect(raw).not.toContain(secret);
    }
  });

  it('refuses bad reports with a clear error and a log line, writes nothing for them, and keeps serving', async () => {
    const sender = await welcomed({ accessToken: alice.accessToken, share: { access: 0 } });
    const receiver = await welcomed({ accessToken: bob.accessToken });
    const stranger = await welcomed({});
    receiver.signal(sender.peerId, signals.offer());
    await sender.next('signal');

    const finished = {
      receiverPeerId: receiver.peerId,
      result: TransferResult.TRANSFER_RESULT_FINISHED,
      fileCount: 1,
      byteCount: 10,
    };
    expect(
      await reportAndExpectError(sender, { ...finished, receiverPeerId: stranger.peerId }),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringContaining('never opened this share'),
    });
    expect(
      await reportAndExpectError(sender, { ...finished, receiverPeerId: 'not-a-peer' }),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_PEER_ID });
    expect(
      await reportAndExpectError(sender, { ...finished, failureReason: 'v=0\r\nSDP' }),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    // Only the page that hosts the share may report on it.
    expect(
      await reportAndExpectError(receiver, { ...finished, receiverPeerId: sender.peerId }),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION });
    await stack.gateway.waitForLine(/report_transfer: .*never opened this share/);

    // The budget (burst 4 here) counts every well-formed report from a share,
    // the one about the stranger too: three more pass, the next is dropped.
    for (let i = 0; i < 3; i++) sender.send(reportFrame(sender.nextSeq(), finished));
    expect(await reportAndExpectError(sender, finished)).toMatchObject({
      code: ErrorCode.ERROR_CODE_RATE_LIMITED,
    });

    // The socket still relays signals both ways.
    sender.signal(receiver.peerId, signals.answer());
    expect((await receiver.next('signal')).signal?.payload?.$case).toBe('answer');
    await eventually(() => expect(events(sender.peerId, 'transferEnded')).toHaveLength(3), {
      timeoutMs: 30_000,
    });
    expect(
      events(sender.peerId, 'transferEnded').every((entry) => {
        const event = entry.record.event;
        return event?.$case === 'transferEnded' && event.value.receiver?.peerId === receiver.peerId;
      }),
    ).toBe(true);
  });

  it('the gateway’s Kafka user may append to the trail but not read it', async () => {
    const reader = new Kafka({
      clientId: `audit-e2e-gw-${RUN}`,
      brokers: [DEFAULT_KAFKA_BROKERS],
      sasl: kafkaServiceSasl('gateway'),
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).consumer({ groupId: `gateway-audit-e2e-${RUN}` });
    await reader.connect();
    try {
      await expect(
        (async () => {
          await reader.subscribe({ topic: AUDIT_TOPIC, fromBeginning: true });
          await new Promise<void>((resolveRun, rejectRun) => {
            reader.on(reader.events.CRASH, ({ payload }) => rejectRun(payload.error));
            reader.run({ eachMessage: async () => resolveRun() }).catch(rejectRun);
          });
        })(),
      ).rejects.toThrow(/Not authorized to access topics/);
    } finally {
      await reader.disconnect();
    }
  });
});
