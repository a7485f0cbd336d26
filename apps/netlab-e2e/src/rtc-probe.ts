import { type Peer } from '@ephemeral/browser-testing';

/**
 * An init script: remembers every RTCPeerConnection the page makes and,
 * every 250 ms while one is open, which candidate pair it selected and the
 * bytes that pair carried, so a test can read the path after the app
 * closed the connection. Chromium names the pair in its transport stats
 * (selectedCandidatePairId), Firefox flags it (`selected`). A reader takes
 * one more sample first (`__netlab.sample`): the timer alone can miss the
 * last 250 ms of a transfer that is still open, which over TURN/TCP was
 * ~75 KB of a 7 MB file in one CI run.
 */
export const RTC_PROBE = `(() => {
  const Native = window.RTCPeerConnection;
  const pcs = [];
  const pairs = {};
  // Every ICE connection state any connection went through, in order.
  const iceStates = [];
  const netlab = { pcs, pairs, iceStates };
  window.__netlab = netlab;
  window.RTCPeerConnection = new Proxy(Native, {
    construct(target, args, newTarget) {
      const pc = Reflect.construct(target, args, newTarget);
      pcs.push(pc);
      pc.addEventListener('iceconnectionstatechange', () => iceStates.push(pc.iceConnectionState));
      return pc;
    },
  });
  const candidate = (c) => c && {
    type: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol || null,
    address: c.address || c.ip || null, port: c.port, url: c.url || null,
  };
  const sample = async () => {
    for (const [index, pc] of pcs.entries()) {
      if (pc.connectionState === 'closed') continue;
      let stats;
      try { stats = await pc.getStats(); } catch { continue; }
      let pair;
      stats.forEach((r) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
      });
      if (!pair) stats.forEach((r) => { if (r.type === 'candidate-pair' && r.selected) pair = r; });
      if (!pair) continue;
      const key = index + ':' + pair.id;
      const seen = pairs[key];
      pairs[key] = {
        connection: index,
        local: candidate(stats.get(pair.localCandidateId)) || (seen && seen.local),
        remote: candidate(stats.get(pair.remoteCandidateId)) || (seen && seen.remote),
        bytesSent: Math.max(pair.bytesSent || 0, seen ? seen.bytesSent : 0),
        bytesReceived: Math.max(pair.bytesReceived || 0, seen ? seen.bytesReceived : 0),
        rttMs: pair.currentRoundTripTime != null ? Math.round(pair.currentRoundTripTime * 1000) : (seen ? seen.rttMs : null),
      };
    }
  };
  netlab.sample = sample;
  setInterval(() => { sample().catch(() => undefined); }, 250);
})();`;

export interface ProbedCandidate {
  type: 'host' | 'srflx' | 'prflx' | 'relay';
  protocol: 'udp' | 'tcp';
  /** For a relay candidate: how the browser reaches the TURN server (udp, tcp, tls). */
  relayProtocol: 'udp' | 'tcp' | 'tls' | null;
  address: string | null;
  port: number;
  url: string | null;
}

/** One selected candidate pair and what it carried. */
export interface ProbedPair {
  connection: number;
  local: ProbedCandidate;
  remote: ProbedCandidate;
  bytesSent: number;
  bytesReceived: number;
  rttMs: number | null;
}

/** Every candidate pair the page's connections selected so far, sampled once more now. */
export function selectedPairs(peer: Peer): Promise<ProbedPair[]> {
  return peer.evaluate(async () => {
    const netlab = (
      window as unknown as {
        __netlab: { pairs: Record<string, unknown>; sample: () => Promise<void> };
      }
    ).__netlab;
    await netlab.sample();
    return Object.values(netlab.pairs);
  }) as Promise<ProbedPair[]>;
}

/** The pair that carried the most bytes one way: the one the file went over. */
export async function dataPair(peer: Peer, direction: 'sent' | 'received'): Promise<ProbedPair> {
  const pairs = await selectedPairs(peer);
  const bytes = (p: ProbedPair) => (direction === 'sent' ? p.bytesSent : p.bytesReceived);
  const best = pairs.sort((a, b) => bytes(b) - bytes(a))[0];
  if (!best) throw new Error(`${peer.name}: no connection ever selected a candidate pair`);
  return best;
}

/** Every ICE connection state the page's connections went through, in order. */
export function iceStates(peer: Peer): Promise<string[]> {
  return peer.evaluate(
    () => (window as unknown as { __netlab: { iceStates: string[] } }).__netlab.iceStates,
  );
}

/** What ICE gathering against one TURN server gave a page. */
export interface Gathered {
  /** The `typ` of every candidate gathered. */
  types: string[];
  /** `errorCode` of every icecandidateerror. */
  errors: number[];
}

/**
 * In the page: a fresh RTCPeerConnection with only `server`, relay-only,
 * gathers candidates until gathering completes (bounded by `timeoutMs`).
 */
export function gatherWith(
  peer: Peer,
  server: { urls: string; username: string; credential: string },
  timeoutMs = 30_000,
): Promise<Gathered> {
  return peer.evaluate(
    async ({ server, timeoutMs }) => {
      const pc = new RTCPeerConnection({ iceServers: [server], iceTransportPolicy: 'relay' });
      const types: string[] = [];
      const errors: number[] = [];
      pc.addEventListener('icecandidateerror', (e) =>
        errors.push((e as RTCPeerConnectionIceErrorEvent).errorCode),
      );
      const done = new Promise<void>((resolveDone) => {
        pc.addEventListener('icecandidate', (e) => {
          if (e.candidate) types.push(e.candidate.type ?? '');
          else resolveDone();
        });
        setTimeout(resolveDone, timeoutMs);
      });
      pc.createDataChannel('probe');
      await pc.setLocalDescription(await pc.createOffer());
      await done;
      pc.close();
      return { types, errors };
    },
    { server, timeoutMs },
  );
}
