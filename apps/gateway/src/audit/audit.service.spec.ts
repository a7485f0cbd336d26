import {
  type AuditRecord,
  ErrorCode,
  type Identity,
  type ReportTransfer,
  ShareAccess,
  SignalRecord,
  TransferOutcome,
  TransferResult,
} from '@ephemeral/protocol';

import type { PeerSession } from '../signaling/peer-session';

import type { AuditConfig } from './audit-config';
import type { AuditSink } from './audit-sink';
import { AuditService } from './audit.service';

const NOW = 1_800_000_000_000;
const SENDER = '11111111-1111-4111-8111-111111111111';
const RECEIVER = '22222222-2222-4222-8222-222222222222';
const STRANGER = '33333333-3333-4333-8333-333333333333';

const alice: Identity = {
  subject: 'u-alice',
  issuer: 'https://id.example.com',
  displayName: 'Alice',
  email: 'alice@example.com',
  emailDomain: 'example.com',
};
const bob: Identity = { ...alice, subject: 'u-bob', displayName: 'Bob', email: 'bob@example.com' };

/** Collects what the service writes; the Kafka sink is proven in apps/oidc-e2e. */
class RecordingSink implements AuditSink {
  readonly records: { key: string; record: AuditRecord }[] = [];
  start = () => Promise.resolve();
  stop = () => Promise.resolve();
  write(key: string, record: AuditRecord): void {
    this.records.push({ key, record });
  }
}

function config(overrides: Partial<AuditConfig> = {}): AuditConfig {
  return {
    sink: 'kafka',
    topic: 'ephemeral.audit.v1',
    fileNames: false,
    reportsPerMinute: 60,
    reportsBurst: 3,
    ...overrides,
  };
}

function session(peerId: string): PeerSession {
  return { peerId } as unknown as PeerSession;
}

function offerFrom(from: string, to: string, identity?: Identity): SignalRecord {
  return SignalRecord.fromPartial({
    to,
    from,
    fromIdentity: identity,
    signal: { payload: { $case: 'offer', value: { sdp: 'v=0 secret-sdp' } } },
  });
}

function report(overrides: Partial<ReportTransfer> = {}): ReportTransfer {
  return {
    receiverPeerId: RECEIVER,
    result: TransferResult.TRANSFER_RESULT_FINISHED,
    fileCount: 2,
    byteCount: 3_000,
    failureReason: '',
    fileNames: [],
    ...overrides,
  };
}

function setUp(overrides: Partial<AuditConfig> = {}) {
  const sink = new RecordingSink();
  let now = NOW;
  const audit = new AuditService(config(overrides), sink, 'gw-1', () => now);
  const sender = session(SENDER);
  audit.shareOpened(sender, ShareAccess.SHARE_ACCESS_SIGNED_IN, alice);
  return { sink, audit, sender, advance: (ms: number) => (now += ms) };
}

describe('AuditService', () => {
  it('writes ShareOpened, ReceiverJoined once per receiver, and TransferEnded, keyed by the share', () => {
    const { sink, audit, sender } = setUp();
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER, bob), alice);
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER, bob), alice);
    expect(audit.reportTransfer(sender, 7, report(), alice)).toBeUndefined();

    expect(sink.records.map((r) => r.key)).toEqual([SENDER, SENDER, SENDER]);
    const [opened, joined, ended] = sink.records.map((r) => r.record);
    expect(opened).toMatchObject({
      occurredAtUnixMs: NOW,
      gatewayId: 'gw-1',
      event: {
        $case: 'shareOpened',
        value: {
          sender: { peerId: SENDER, identity: alice },
          access: ShareAccess.SHARE_ACCESS_SIGNED_IN,
        },
      },
    });
    expect(joined.event).toEqual({
      $case: 'receiverJoined',
      value: {
        sender: { peerId: SENDER, identity: alice },
        receiver: { peerId: RECEIVER, identity: bob },
      },
    });
    expect(ended.event).toEqual({
      $case: 'transferEnded',
      value: {
        sender: { peerId: SENDER, identity: alice },
        receiver: { peerId: RECEIVER, identity: bob },
        outcome: TransferOutcome.TRANSFER_OUTCOME_FINISHED,
        fileCount: 2,
        byteCount: 3_000,
        failureReason: '',
        fileNames: [],
      },
    });
    expect(new Set(sink.records.map((r) => r.record.recordId)).size).toBe(3);
    expect(JSON.stringify(sink.records)).not.toContain('secret-sdp');
  });

  it('an anonymous receiver is a peer ID without identity', () => {
    const { sink, audit, sender } = setUp();
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER), alice);
    expect(sink.records[1].record.event).toMatchObject({
      value: { receiver: { peerId: RECEIVER } },
    });
    const joined = sink.records[1].record.event;
    expect(joined?.$case === 'receiverJoined' && joined.value.receiver).toEqual({
      peerId: RECEIVER,
    });
  });

  it('drops file names unless AUDIT_FILE_NAMES allows them', () => {
    for (const fileNames of [false, true]) {
      const { sink, audit, sender } = setUp({ fileNames });
      audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER, bob), alice);
      audit.reportTransfer(sender, 1, report({ fileNames: ['payroll.xlsx'] }), alice);
      const ended = sink.records[2].record.event;
      expect(ended?.$case === 'transferEnded' && ended.value.fileNames).toEqual(
        fileNames ? ['payroll.xlsx'] : [],
      );
    }
  });

  it('refuses reports from a page that hosts no share, about a stranger, or malformed', () => {
    const { sink, audit, sender } = setUp();
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER, bob), alice);
    expect(audit.reportTransfer(session(RECEIVER), 1, report(), bob)).toMatchObject({
      code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
      seq: 1,
    });
    expect(
      audit.reportTransfer(sender, 2, report({ receiverPeerId: STRANGER }), alice),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, peerId: STRANGER });
    expect(audit.reportTransfer(sender, 3, report({ receiverPeerId: 'x' }), alice)).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_PEER_ID,
    });
    expect(
      audit.reportTransfer(
        sender,
        4,
        report({ result: TransferResult.TRANSFER_RESULT_UNSPECIFIED }),
        alice,
      ),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(
      audit.reportTransfer(sender, 5, report({ failureReason: 'v=0\r\na=candidate' }), alice),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(
      audit.reportTransfer(sender, 6, report({ fileCount: 1, fileNames: ['a', 'b'] }), alice),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(audit.reportTransfer(sender, 7, report({ byteCount: 2 ** 60 }), alice)).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    // Only ShareOpened and ReceiverJoined were written.
    expect(sink.records).toHaveLength(2);
  });

  it('rate-limits reports per connection and refills over time', () => {
    const { sink, audit, sender, advance } = setUp({ reportsPerMinute: 60, reportsBurst: 3 });
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER, bob), alice);
    for (let i = 0; i < 3; i++)
      expect(audit.reportTransfer(sender, i, report(), alice)).toBeUndefined();
    expect(audit.reportTransfer(sender, 9, report(), alice)).toMatchObject({
      code: ErrorCode.ERROR_CODE_RATE_LIMITED,
    });
    advance(1_000);
    expect(audit.reportTransfer(sender, 10, report(), alice)).toBeUndefined();
    expect(sink.records).toHaveLength(2 + 4);
  });

  it('a failed transfer keeps its reason; a finished one never carries one', () => {
    const { sink, audit, sender } = setUp();
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER, bob), alice);
    audit.reportTransfer(
      sender,
      1,
      report({
        result: TransferResult.TRANSFER_RESULT_FAILED,
        fileCount: 1,
        failureReason: 'failed',
      }),
      alice,
    );
    audit.reportTransfer(sender, 2, report({ failureReason: 'left' }), alice);
    const [failed, finished] = sink.records.slice(2).map((r) => r.record.event);
    expect(failed).toMatchObject({
      value: {
        outcome: TransferOutcome.TRANSFER_OUTCOME_FAILED,
        failureReason: 'failed',
        fileCount: 1,
      },
    });
    expect(finished).toMatchObject({ value: { failureReason: '' } });
  });

  it('with the sink off, nothing is written but reports are still checked', () => {
    const sink = new RecordingSink();
    const audit = new AuditService(config({ sink: 'off' }), sink, 'gw-1');
    const sender = session(SENDER);
    audit.shareOpened(sender, ShareAccess.SHARE_ACCESS_LINK, undefined);
    audit.signalDelivered(sender, offerFrom(RECEIVER, SENDER), undefined);
    expect(audit.reportTransfer(sender, 1, report(), undefined)).toBeUndefined();
    expect(
      audit.reportTransfer(sender, 2, report({ receiverPeerId: STRANGER }), undefined),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    expect(sink.records).toHaveLength(0);
  });

  it('answers and candidates are not joins; only offers to a share are', () => {
    const { sink, audit, sender } = setUp();
    audit.signalDelivered(
      sender,
      SignalRecord.fromPartial({
        to: SENDER,
        from: RECEIVER,
        signal: { payload: { $case: 'candidate', value: { candidate: 'candidate:1 1 udp' } } },
      }),
      alice,
    );
    audit.signalDelivered(session(STRANGER), offerFrom(RECEIVER, STRANGER), undefined);
    expect(sink.records).toHaveLength(1);
  });
});
