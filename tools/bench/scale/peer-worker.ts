/**
 * A client worker of the scale run: thousands of cheap peers in one process,
 * each a raw `ws` socket speaking the gateway's protobuf frames (no
 * SignalingClient: no frame queue, no promises per frame). It opens its
 * peers at a bounded rate from its own loopback source addresses, keeps
 * them open (ws answers the gateway's pings, so the gateway keeps their
 * leases alive), and drives WebRTC-shaped negotiations to random peers on
 * other gateways:
 *   offer (~2.5 KiB SDP) + 10 ICE candidates → answer + 10 candidates back,
 *   a bye 2 s later: 23 signals, as a browser's trickle-ICE connection.
 * Every signal carries its send time (CLOCK_MONOTONIC, shared by every
 * process on the machine), so the receiving worker measures the latency.
 */
import WebSocket from 'ws';

import { ClientFrame, ErrorCode, ServerFrame, type Signal } from '@ephemeral/protocol';

import { LatencyHistogram } from './latency-histogram';
import { sourceAddressOf } from './system-limits';
import type { FromWorker, ToWorker, WorkerStats } from './worker-messages';

const HANDSHAKE_TIMEOUT_MS = 30_000;
const CANDIDATES_PER_SIDE = 10;
const BYE_AFTER_MS = 2_000;
const TICK_MS = 50;
// What a page retries after (ADR 0035): turned away by a busy gateway, or
// presence unavailable. Backoff 1, 2, 4, 8 s (±25 %), at most 6 attempts.
const RETRIED: ReadonlySet<string> = new Set(['ERROR_CODE_UNAVAILABLE', 'closed 1013']);
const MAX_ATTEMPTS = 6;
const retryDelayMs = (attempt: number) =>
  Math.min(8_000, 1_000 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
// An SDP of a data-channel-only offer with a few candidates' worth of
// attributes is 2-3 KiB; the padding makes relayed bytes realistic.
const SDP_PADDING = Array.from(
  { length: 40 },
  (_, i) => `a=x-bench-${i}:${'0123456789abcdef'.repeat(3)}\r\n`,
).join('');

interface Peer {
  socket: WebSocket;
  id: string;
  gateway: number;
  seq: number;
}

function send(worker: FromWorker): void {
  process.send?.(worker);
}

/** The send time carried by a signal, as the tag in its SDP, candidate ufrag or bye reason. */
function tagOf(signal: Signal | undefined): string | undefined {
  const payload = signal?.payload;
  switch (payload?.$case) {
    case 'offer':
    case 'answer':
      return /^v=0\r\no=- (\d+) /.exec(payload.value.sdp)?.[1];
    case 'candidate':
      return payload.value.usernameFragment;
    case 'bye':
      return payload.value.reason;
    default:
      return undefined;
  }
}

function sdp(tag: string): string {
  return `v=0\r\no=- ${tag} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${SDP_PADDING}`;
}

const now = () => process.hrtime.bigint();

export function runPeerWorker(): void {
  const peers: Peer[] = [];
  let directoryIds: string[] = [];
  let directoryGateways: Uint8Array = new Uint8Array(0);
  const gatewayOf = new Map<string, number>();
  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  let addressed: number[] = [];
  let sent = 0;
  let received = 0;
  let stopping = false;

  const signal = (from: Peer, to: string, toGateway: number, value: Signal) => {
    if (from.socket.readyState !== WebSocket.OPEN) return;
    from.seq += 1;
    from.socket.send(
      ClientFrame.encode({
        seq: from.seq,
        kind: { $case: 'signal', value: { to, from: '', signal: value } },
      }).finish(),
    );
    sent += 1;
    addressed[toGateway] = (addressed[toGateway] ?? 0) + 1;
  };
  const candidate = (tag: string, n: number): Signal => ({
    payload: {
      $case: 'candidate',
      value: {
        candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${50_000 + n} typ host`,
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: tag,
      },
    },
  });

  const onFrame = (peer: Peer, data: Buffer) => {
    const kind = ServerFrame.decode(data).kind;
    if (kind?.$case === 'signal') {
      const tag = tagOf(kind.value.signal);
      if (tag !== undefined && /^\d+$/.test(tag)) {
        received += 1;
        latency.record(Number(now() - BigInt(tag)) / 1e6);
      }
      // The callee's side of a negotiation: answer, then its candidates.
      if (kind.value.signal?.payload?.$case === 'offer') {
        const from = kind.value.from;
        const fromGateway = gatewayOf.get(from) ?? 0;
        signal(peer, from, fromGateway, {
          payload: {
            $case: 'answer',
            value: { sdp: sdp(String(now())), fingerprintMac: new Uint8Array(32) },
          },
        });
        for (let n = 0; n < CANDIDATES_PER_SIDE; n++)
          signal(peer, from, fromGateway, candidate(String(now()), n));
      }
    } else if (kind?.$case === 'error') {
      const name = ErrorCode[kind.value.code] ?? String(kind.value.code);
      errors[name] = (errors[name] ?? 0) + 1;
    }
  };

  const connectOne = (index: number, urls: string[], perAddress: number): Promise<Peer | string> =>
    new Promise((settle) => {
      const gateway = index % urls.length;
      const socket = new WebSocket(urls[gateway] as string, {
        localAddress: sourceAddressOf(index, perAddress),
        perMessageDeflate: false,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      });
      const peer: Peer = { socket, id: '', gateway, seq: 1 };
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.terminate();
        settle(why);
      };
      const timer = setTimeout(() => fail('timeout'), HANDSHAKE_TIMEOUT_MS);
      socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
      let welcomed = false;
      socket.on('close', (code: number) => {
        if (!done) fail(`closed ${code}`);
        // A welcomed peer's socket closed by the other end (a failed
        // handshake's is counted as a failure, not here).
        else if (welcomed && !stopping) closes[String(code)] = (closes[String(code)] ?? 0) + 1;
      });
      socket.once('open', () =>
        socket.send(
          ClientFrame.encode({
            seq: 1,
            kind: {
              $case: 'hello',
              value: { resumePeerId: '', resumeToken: '', clientVersion: 'bench/scale-run' },
            },
          }).finish(),
        ),
      );
      socket.on('message', (data: Buffer) => {
        if (done) {
          onFrame(peer, data);
          return;
        }
        const kind = ServerFrame.decode(data).kind;
        if (kind?.$case === 'welcome') {
          done = true;
          welcomed = true;
          clearTimeout(timer);
          peer.id = kind.value.peerId;
          settle(peer);
        } else if (kind?.$case === 'error') {
          fail(ErrorCode[kind.value.code] ?? 'error');
        }
      });
    });

  const connectAll = async (command: Extract<ToWorker, { type: 'connect' }>) => {
    const startedAt = performance.now();
    const failures: Record<string, number> = {};
    const turnedAway: Record<string, number> = {};
    // Peers turned away (UNAVAILABLE, close 1013: ADR 0035) try again later,
    // as a page does, until the ramp's deadline.
    const retries: Array<{ index: number; attempt: number; at: number }> = [];
    let next = 0;
    let inFlight = 0;
    let failed = 0;
    let allowance = 0;
    addressed = new Array<number>(command.gatewayUrls.length).fill(0);
    const progress = setInterval(
      () => send({ type: 'progress', connected: peers.length, failed, inFlight }),
      1_000,
    );
    const nextAttempt = (): { index: number; attempt: number } | undefined => {
      const due = retries.findIndex((retry) => retry.at <= Date.now());
      if (due !== -1) return retries.splice(due, 1)[0];
      if (next < command.count) return { index: command.firstIndex + next++, attempt: 1 };
      return undefined;
    };
    await new Promise<void>((finish) => {
      const tick = setInterval(() => {
        const over = Date.now() > command.deadlineUnixMs;
        allowance = Math.min(
          allowance + (command.ratePerSecond * TICK_MS) / 1000,
          command.maxInFlight,
        );
        while (!over && allowance >= 1 && inFlight < command.maxInFlight) {
          const attempt = nextAttempt();
          if (!attempt) break;
          allowance -= 1;
          inFlight += 1;
          void connectOne(attempt.index, command.gatewayUrls, command.peersPerAddress).then(
            (outcome) => {
              inFlight -= 1;
              if (typeof outcome !== 'string') {
                peers.push(outcome);
              } else if (RETRIED.has(outcome) && attempt.attempt < MAX_ATTEMPTS) {
                turnedAway[outcome] = (turnedAway[outcome] ?? 0) + 1;
                retries.push({
                  index: attempt.index,
                  attempt: attempt.attempt + 1,
                  at: Date.now() + retryDelayMs(attempt.attempt),
                });
              } else {
                failed += 1;
                failures[outcome] = (failures[outcome] ?? 0) + 1;
              }
            },
          );
        }
        const nothingLeft = next >= command.count && retries.length === 0;
        if ((nothingLeft || over) && inFlight === 0) {
          clearInterval(tick);
          finish();
        }
      }, TICK_MS);
    });
    clearInterval(progress);
    if (retries.length > 0) failures['turned away until the deadline'] = retries.length;
    if (next < command.count) failures['not started (deadline)'] = command.count - next;
    send({
      type: 'connected',
      ids: peers.map((peer) => peer.id),
      gateways: Uint8Array.from(peers.map((peer) => peer.gateway)),
      failed: failed + retries.length + (command.count - next),
      failures,
      turnedAway,
      seconds: (performance.now() - startedAt) / 1000,
    });
  };

  const negotiate = (caller: Peer) => {
    let target = -1;
    for (let pick = 0; pick < 20; pick++) {
      const candidateIndex = Math.floor(Math.random() * directoryIds.length);
      if (directoryGateways[candidateIndex] !== caller.gateway) {
        target = candidateIndex;
        break;
      }
    }
    if (target < 0) return false;
    const to = directoryIds[target] as string;
    const toGateway = directoryGateways[target] as number;
    signal(caller, to, toGateway, {
      payload: {
        $case: 'offer',
        value: { sdp: sdp(String(now())), fingerprintMac: new Uint8Array(32) },
      },
    });
    for (let n = 0; n < CANDIDATES_PER_SIDE; n++)
      signal(caller, to, toGateway, candidate(String(now()), n));
    setTimeout(
      () =>
        signal(caller, to, toGateway, {
          payload: { $case: 'bye', value: { reason: String(now()) } },
        }),
      BYE_AFTER_MS,
    );
    return true;
  };

  const drive = async (command: Extract<ToWorker, { type: 'signal' }>) => {
    // Signals one negotiation sends from this worker's side (the callee's
    // replies are sent by the worker holding the callee).
    const perSession = 1 + CANDIDATES_PER_SIDE + 1;
    const endsAt = performance.now() + command.seconds * 1000;
    let allowance = 0;
    let sessions = 0;
    const sentBefore = sent;
    await new Promise<void>((finish) => {
      const tick = setInterval(() => {
        allowance += (command.sessionsPerSecond * TICK_MS) / 1000;
        while (allowance >= 1 && peers.length > 0) {
          allowance -= 1;
          if (sent - sentBefore + perSession > command.maxSignals) break;
          const caller = peers[Math.floor(Math.random() * peers.length)] as Peer;
          if (negotiate(caller)) sessions += 1;
        }
        if (performance.now() >= endsAt || sent - sentBefore + perSession > command.maxSignals) {
          clearInterval(tick);
          finish();
        }
      }, TICK_MS);
    });
    send({ type: 'signalDone', sessions });
  };

  const stats = (): WorkerStats => ({
    open: peers.filter((peer) => peer.socket.readyState === WebSocket.OPEN).length,
    sent,
    received,
    addressed,
    errors,
    closes,
    latency: latency.toSparse(),
    rssBytes: process.memoryUsage.rss(),
  });

  process.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'connect':
        void connectAll(message);
        break;
      case 'directory':
        directoryIds = message.ids;
        directoryGateways = message.gateways;
        message.ids.forEach((id, i) => gatewayOf.set(id, message.gateways[i] ?? 0));
        break;
      case 'signal':
        void drive(message);
        break;
      case 'report':
        send({ type: 'stats', ...stats() });
        break;
    }
  });
  // The coordinator is gone (Ctrl-C, a crash): the sockets go with this process.
  process.on('disconnect', () => {
    stopping = true;
    process.exit(0);
  });
  process.on('SIGTERM', () => {
    stopping = true;
    process.exit(0);
  });
}
