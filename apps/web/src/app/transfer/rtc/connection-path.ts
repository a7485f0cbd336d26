/** How a connection's data travels: straight between the browsers, or through the TURN relay (and how this end reaches it). */
export type PathKind = 'direct' | 'relay-udp' | 'relay-tcp' | 'relay-tls';

/** What the page shows about one peer connection. */
export interface ConnectionPath {
  readonly kind: PathKind;
  /** The selected candidate pair's last measured round trip; null until one was measured. */
  readonly rttMs: number | null;
}

/** The fields of RTCStats this reads; engines differ in which they fill. */
interface StatsEntry {
  id: string;
  type: string;
  selectedCandidatePairId?: string;
  /** Firefox marks the pair in use instead of naming it on a transport. */
  selected?: boolean;
  nominated?: boolean;
  state?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
  currentRoundTripTime?: number;
  totalRoundTripTime?: number;
  responsesReceived?: number;
  candidateType?: string;
  relayProtocol?: string;
  protocol?: string;
}

/**
 * The path of the candidate pair ICE selected, read from `getStats()`:
 * relayed when either end's candidate is a relay one (the protocol is how
 * this end reaches its relay, `relayProtocol`), direct otherwise. Null while
 * no pair is selected.
 */
export async function readConnectionPath(
  pc: Pick<RTCPeerConnection, 'getStats'>,
): Promise<ConnectionPath | null> {
  const report = await pc.getStats();
  const entries: StatsEntry[] = [];
  report.forEach((entry: StatsEntry) => entries.push(entry));
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const named = entries.find((e) => e.type === 'transport' && e.selectedCandidatePairId);
  const pair =
    (named?.selectedCandidatePairId ? byId.get(named.selectedCandidatePairId) : undefined) ??
    entries.find((e) => e.type === 'candidate-pair' && e.selected === true) ??
    entries.find((e) => e.type === 'candidate-pair' && e.nominated && e.state === 'succeeded');
  if (!pair) return null;
  const local = pair.localCandidateId ? byId.get(pair.localCandidateId) : undefined;
  const remote = pair.remoteCandidateId ? byId.get(pair.remoteCandidateId) : undefined;
  return { kind: pathKind(local, remote), rttMs: roundTripMs(pair) };
}

function pathKind(local: StatsEntry | undefined, remote: StatsEntry | undefined): PathKind {
  if (local?.candidateType === 'relay') return relayKind(local.relayProtocol);
  // Only the other end relays: this end talks to its relay over the pair's own protocol.
  if (remote?.candidateType === 'relay') return relayKind(local?.protocol);
  return 'direct';
}

function relayKind(protocol: string | undefined): PathKind {
  switch (protocol?.toLowerCase()) {
    case 'tcp':
      return 'relay-tcp';
    case 'tls':
      return 'relay-tls';
    default:
      return 'relay-udp';
  }
}

function roundTripMs(pair: StatsEntry): number | null {
  if (typeof pair.currentRoundTripTime === 'number')
    return Math.round(pair.currentRoundTripTime * 1000);
  if (typeof pair.totalRoundTripTime === 'number' && pair.responsesReceived)
    return Math.round((pair.totalRoundTripTime / pair.responsesReceived) * 1000);
  return null;
}
