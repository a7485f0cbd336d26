import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';

import {
  ErrorCode,
  type PeerSignal,
  Signal,
  SignalRecord,
  signalKindOf,
} from '@ephemeral/protocol';

import { AuditService } from '../audit/audit.service';
import { SIGN_IN_REQUIRED_REASON, SignInService } from '../auth/sign-in.service';
import { SIGNAL_BUS, type SignalBus } from '../bus/signal-bus';
import { GATEWAY_CONFIG } from '../config/gateway-config.tokens';
import type { GatewayConfig } from '../config/gateway-config';
import { GatewayMetrics, signalKindLabel } from '../metrics/gateway-metrics';
import { BatchedLookups } from '../presence/batched-lookups';
import { OnlinePeerCache } from '../presence/online-peer-cache';
import type { PresenceClient } from '../presence/presence-client';
import { PRESENCE_CLIENT } from '../presence/presence.tokens';

import { validatePeerSignal } from './client-frame-validator';
import { CounterpartTracker } from './counterpart-tracker';
import { LookupAdmission, LookupShedError } from './lookup-admission';
import { PeerConnectionRegistry } from './peer-connection-registry';
import { type PeerSession, type SignalLimitLabel, targetBytesBurst } from './peer-session';

// A stale cached "online" is refreshed in the background (isOnline), with
// the other refreshes asked within this window, in one BatchLookup
// (BatchedLookups). The entry stays servable meanwhile: the cache refreshes
// at half its age bound (1 s of 2 s), so 100 ms never lets one expire.
const REFRESH_WINDOW_MS = 100;
// Well under presence's 1 000 IDs per BatchLookup.
const MAX_REFRESH_BATCH = 500;

/**
 * Routes signals: from a local client onto the bus (after presence says the
 * target is online), and from the bus to the target's local socket.
 *
 * "Online" is answered by the short-lived positive `OnlinePeerCache` (see
 * there for why it is safe), otherwise by a presence lookup. A negative
 * answer is never cached: a receiver whose sender just connected is not
 * turned away.
 */
@Injectable()
export class SignalRouter implements OnModuleInit {
  private readonly refreshes = new BatchedLookups(
    (peerIds) => this.lookUpMany(peerIds),
    REFRESH_WINDOW_MS,
    MAX_REFRESH_BATCH,
  );

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(PRESENCE_CLIENT) private readonly presence: PresenceClient,
    @Inject(SIGNAL_BUS) private readonly bus: SignalBus,
    private readonly registry: PeerConnectionRegistry,
    private readonly counterparts: CounterpartTracker,
    private readonly onlinePeers: OnlinePeerCache,
    private readonly metrics: GatewayMetrics,
    @Optional() private readonly signIn: SignInService = SignInService.off(),
    @Optional() private readonly audit: AuditService = AuditService.off(),
    @Optional() private readonly lookups: LookupAdmission = LookupAdmission.unbounded(),
  ) {
    metrics.busPublishErrors.inc({ bus: config.signalBus }, 0);
  }

  onModuleInit(): void {
    this.bus.subscribe((record) => this.deliver(record));
  }

  /** A signal from a welcomed local client. Runs in the client's serial queue. */
  async route(session: PeerSession, seq: number, peerSignal: PeerSignal): Promise<void> {
    const senderId = session.peerId;
    if (session.state !== 'ready' || senderId === undefined) {
      session.refuse({
        code: ErrorCode.ERROR_CODE_PROTOCOL_VIOLATION,
        message: 'send hello first',
        seq,
      });
      return;
    }
    const refusal = validatePeerSignal(seq, peerSignal, senderId, this.config);
    if (refusal) {
      session.refuse(refusal);
      return;
    }
    const signInRefusal = this.signIn.checkSignal(session, seq, peerSignal);
    if (signInRefusal) {
      session.refuse(signInRefusal);
      return;
    }
    const { to, signal } = peerSignal;
    const signalKind = signalKindOf(signal);
    const kindName = signalKindLabel(signalKind);
    // Before the presence lookup: a flood costs no presence calls.
    const limited = session.admitSignal(to, signal ? Signal.encode(signal).finish().byteLength : 0);
    if (limited) {
      this.metrics.signalsLimited.inc({ limit: limited });
      session.refuse({
        code: ErrorCode.ERROR_CODE_RATE_LIMITED,
        message: `${kindName} (seq ${seq}) to ${to} dropped: ${this.limitText(limited)}`,
        seq,
        signalKind,
        peerId: to,
      });
      return;
    }
    let online: boolean;
    try {
      // Not awaited when cached: the signal goes out in this same turn.
      const answer = this.isOnline(to);
      online = answer === true ? true : await answer;
    } catch (error) {
      const shed = error instanceof LookupShedError;
      if (shed) this.metrics.signalsShed.inc({ reason: error.reason.replace(/-/g, '_') });
      session.refuse({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: `${kindName} (seq ${seq}) to ${to} not sent: presence is ${shed ? 'busy' : 'unavailable'}; retry`,
        seq,
        signalKind,
        peerId: to,
      });
      return;
    }
    if (!online) {
      session.refuse({
        code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND,
        message: `${kindName} (seq ${seq}) not sent: peer ${to} is not online`,
        seq,
        signalKind,
        peerId: to,
      });
      return;
    }
    if (!session.isOpen) return;
    try {
      await this.bus.publish({
        to,
        from: senderId,
        signal,
        originGatewayId: this.config.gatewayId,
        sentAtUnixMs: Date.now(),
        // Stamped here, like `from`: the verified identity, never the client's word.
        fromIdentity: this.signIn.identityOf(session),
        senderSeq: seq,
        slotToken: 0,
        hops: 0,
        undeliverable: ErrorCode.ERROR_CODE_UNSPECIFIED,
      });
    } catch {
      this.metrics.busPublishErrors.inc({ bus: this.config.signalBus });
      session.refuse({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: `${kindName} (seq ${seq}) to ${to} not sent: the signal bus is unavailable; retry`,
        seq,
        signalKind,
        peerId: to,
      });
      return;
    }
    this.metrics.signalRelayed(kindName);
    this.counterparts.add(senderId, to);
    session.logger.debug({ targetPeerId: to, signalKind: kindName, seq }, 'signal published');
  }

  private limitText(limit: SignalLimitLabel): string {
    const c = this.config;
    switch (limit) {
      case 'target_signals':
        return `over ${c.maxSignalsPerTargetPerSecond} signals per second (burst ${c.maxSignalsPerTargetBurst}) to one peer`;
      case 'target_bytes':
        return `over ${c.maxSignalBytesPerTargetPerSecond} signal bytes per second (burst ${targetBytesBurst(c.maxSdpBytes)}) to one peer`;
      case 'ip':
        return `over ${c.maxSignalsPerIpPerSecond} signals per second from this IP address`;
    }
  }

  /**
   * A cached "online" answers at once; a stale one (older than half the
   * cache's age) also starts a lookup in the background, so a peer that
   * keeps receiving signals never makes a signal wait for presence.
   */
  private isOnline(peerId: string): Promise<boolean> | true {
    const cached = this.onlinePeers.check(peerId);
    if (cached !== 'unknown') {
      this.metrics.onlinePeerChecked('hit');
      if (cached === 'stale') {
        // A failed refresh changes nothing: the entry ages out, and the
        // signal after that asks presence itself (UNAVAILABLE if it is down).
        this.onlinePeers
          .lookup(peerId, () => this.refreshes.isOnline(peerId))
          .catch(() => undefined);
      }
      return true;
    }
    this.metrics.onlinePeerChecked('miss');
    return this.lookUp(peerId);
  }

  private lookUp(peerId: string): Promise<boolean> {
    return this.onlinePeers.lookup(peerId, async () => {
      // Inside the cache's lookup: signals that join a Lookup already in
      // flight for the same peer take no slot of their own.
      const release = this.lookups.enter();
      if (typeof release === 'string') throw new LookupShedError(release);
      try {
        return (await this.presence.lookup(peerId)) !== undefined;
      } finally {
        release();
      }
    });
  }

  /** The background refreshes' BatchLookup: one Lookup slot for the whole call. */
  private async lookUpMany(peerIds: string[]): Promise<ReadonlySet<string>> {
    const release = this.lookups.enter();
    if (typeof release === 'string') throw new LookupShedError(release);
    try {
      const { leases } = await this.presence.batchLookup(peerIds);
      return new Set(leases.map((lease) => lease.peerId));
    } finally {
      release();
    }
  }

  /**
   * The bus handler: hands a record to its target if the target's socket is
   * here; false when it is not. An `undeliverable` record answers a signal
   * `to` sent: it becomes an Error frame (that code) to `to`.
   */
  deliver(record: SignalRecord): boolean {
    const target = this.registry.get(record.to);
    if (!target || target.state !== 'ready') return false;
    if (record.undeliverable !== ErrorCode.ERROR_CODE_UNSPECIFIED) {
      const signalKind = signalKindOf(record.signal);
      const why =
        record.undeliverable === ErrorCode.ERROR_CODE_UNAVAILABLE
          ? `peer ${record.from} moved to another gateway meanwhile; resend`
          : `peer ${record.from} is no longer online`;
      target.refuse({
        code: record.undeliverable,
        message: `${signalKindLabel(signalKind)} (seq ${record.senderSeq}) not delivered: ${why}`,
        seq: record.senderSeq,
        signalKind,
        peerId: record.from,
      });
      return true;
    }
    if (this.signIn.admitDelivery(target, record) === 'sign-in-required') {
      this.answerSignInRequired(target, record);
      return true;
    }
    this.counterparts.add(record.to, record.from);
    const sent = target.send({
      kind: {
        $case: 'signal',
        value: {
          to: record.to,
          from: record.from,
          signal: record.signal,
          fromIdentity: record.fromIdentity,
        },
      },
    });
    if (sent) {
      this.metrics.signalDelivered(signalKindOf(record.signal), record.sentAtUnixMs);
      this.audit.signalDelivered(target, record, this.signIn.identityOf(target));
    }
    return true;
  }

  /**
   * The target hosts a share for signed-in people only and the offer came
   * from an anonymous page: the share never sees it, and the page gets the
   * share's Bye with reason `sign-in-required` in the target's name (the
   * gateway, not the target, decided it).
   */
  private answerSignInRequired(target: PeerSession, record: SignalRecord): void {
    target.logger.info(
      { fromPeerId: record.from },
      'anonymous offer refused: the share requires sign-in',
    );
    this.bus
      .publish(
        SignalRecord.fromPartial({
          to: record.from,
          from: record.to,
          signal: { payload: { $case: 'bye', value: { reason: SIGN_IN_REQUIRED_REASON } } },
          originGatewayId: this.config.gatewayId,
          sentAtUnixMs: Date.now(),
        }),
      )
      .catch(() => this.metrics.busPublishErrors.inc({ bus: this.config.signalBus }));
  }
}
