import { randomUUID } from 'node:crypto';

import {
  type Actor,
  type AuditRecord,
  ErrorCode,
  type Identity,
  type ReportTransfer,
  ShareAccess,
  type SignalRecord,
  TransferOutcome,
  TransferResult,
} from '@ephemeral/protocol';

import type { PeerSession } from '../signaling/peer-session';
import type { FrameRefusal } from '../signaling/frame-refusal';
import { TokenBucket } from '../signaling/token-bucket';

import type { AuditConfig } from './audit-config';
import { type AuditSink, NO_AUDIT_SINK } from './audit-sink';
import { validateReportTransfer } from './transfer-report';

// Receivers remembered per share (for "joined once" and for checking that a
// report names one). A share with more forgets its earliest receivers: a
// late report about one of those is refused, a rejoin is written again.
const MAX_RECEIVERS_PER_SHARE = 1_024;

interface HostedShare {
  /**
   * Receivers whose offer reached this share, with the identity their
   * gateway stamped on it (insertion order: oldest first).
   */
  receivers: Map<string, Identity | undefined>;
  /** Per-connection budget of ReportTransfer frames. */
  reports: TokenBucket;
}

/**
 * The audit trail (AUDIT_SINK=kafka, docs/audit.md): ShareOpened when a
 * page's Hello declared a share, ReceiverJoined when a receiver's first
 * offer reaches it, TransferEnded when the share's page reports a receiver
 * finished or failed. Who is always the gateway's word (peer IDs it
 * assigned, identities it verified); only the counts in a report are the
 * page's. Records never carry tokens, SDP, candidates or addresses, and
 * file names only with AUDIT_FILE_NAMES=true.
 *
 * ReportTransfer is validated and rate-limited whether or not audit is on,
 * so a page behaves the same against every deployment.
 */
export class AuditService {
  private readonly shares = new WeakMap<PeerSession, HostedShare>();

  constructor(
    private readonly config: AuditConfig,
    private readonly sink: AuditSink,
    private readonly gatewayId: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** No records; reports still validated (tests, and the default). */
  static off(): AuditService {
    return new AuditService(
      { sink: 'off', topic: '', fileNames: false, reportsPerMinute: 120, reportsBurst: 30 },
      NO_AUDIT_SINK,
      '',
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sink.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sink.stop();
  }

  /** A welcomed socket whose Hello declared a share. */
  shareOpened(session: PeerSession, access: ShareAccess, identity: Identity | undefined): void {
    const peerId = session.peerId;
    if (peerId === undefined || this.shares.has(session)) return;
    this.shares.set(session, {
      receivers: new Map(),
      reports: new TokenBucket(
        this.config.reportsPerMinute / 60,
        this.config.reportsBurst,
        this.nowMs,
      ),
    });
    this.write(peerId, {
      $case: 'shareOpened',
      value: { sender: actor(peerId, identity), access },
    });
  }

  /** The share's gateway handed `record` to its local `target`: a first offer is a receiver joining. */
  signalDelivered(target: PeerSession, record: SignalRecord, targetIdentity?: Identity): void {
    const share = this.shares.get(target);
    if (!share || record.signal?.payload?.$case !== 'offer') return;
    if (share.receivers.has(record.from)) return;
    if (share.receivers.size >= MAX_RECEIVERS_PER_SHARE) {
      const oldest = share.receivers.keys().next().value;
      if (oldest !== undefined) share.receivers.delete(oldest);
    }
    share.receivers.set(record.from, record.fromIdentity);
    this.write(record.to, {
      $case: 'receiverJoined',
      value: {
        sender: actor(record.to, targetIdentity),
        receiver: actor(record.from, record.fromIdentity),
      },
    });
  }

  /**
   * A ReportTransfer frame; a refusal (the caller answers it with an Error
   * frame and a log line), or undefined when accepted.
   */
  reportTransfer(
    session: PeerSession,
    seq: number,
    report: ReportTransfer,
    senderIdentity: Identity | undefined,
  ): FrameRefusal | undefined {
    const invalid = validateReportTransfer(seq, report);
    if (invalid) return invalid;
    const share = this.shares.get(session);
    const peerId = session.peerId;
    if (!share || peerId === undefined) {
      return {
        code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
        message: 'report_transfer: only a connection that hosts a share (Hello.share) may report',
        seq,
      };
    }
    if (!share.reports.tryTake()) {
      return {
        code: ErrorCode.ERROR_CODE_RATE_LIMITED,
        message: `report_transfer: over ${this.config.reportsPerMinute} reports per minute; dropped`,
        seq,
        peerId: report.receiverPeerId,
      };
    }
    if (!share.receivers.has(report.receiverPeerId)) {
      return {
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        message: `report_transfer: ${report.receiverPeerId} never opened this share`,
        seq,
        peerId: report.receiverPeerId,
      };
    }
    const finished = report.result === TransferResult.TRANSFER_RESULT_FINISHED;
    this.write(peerId, {
      $case: 'transferEnded',
      value: {
        sender: actor(peerId, senderIdentity),
        receiver: actor(report.receiverPeerId, share.receivers.get(report.receiverPeerId)),
        outcome: finished
          ? TransferOutcome.TRANSFER_OUTCOME_FINISHED
          : TransferOutcome.TRANSFER_OUTCOME_FAILED,
        fileCount: report.fileCount,
        byteCount: report.byteCount,
        failureReason: finished ? '' : report.failureReason,
        fileNames: this.config.fileNames ? report.fileNames : [],
      },
    });
    return undefined;
  }

  private write(key: string, event: NonNullable<AuditRecord['event']>): void {
    if (this.config.sink === 'off') return;
    this.sink.write(key, {
      recordId: randomUUID(),
      occurredAtUnixMs: this.nowMs(),
      gatewayId: this.gatewayId,
      event,
    });
  }
}

function actor(peerId: string, identity: Identity | undefined): Actor {
  return identity?.subject ? { peerId, identity } : { peerId };
}
