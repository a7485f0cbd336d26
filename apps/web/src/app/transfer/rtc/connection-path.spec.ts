import { readConnectionPath } from './connection-path';

function pcWith(entries: Array<Record<string, unknown>>) {
  const report = new Map(entries.map((e) => [e['id'] as string, e]));
  return { getStats: async () => report as unknown as RTCStatsReport };
}

describe('readConnectionPath', () => {
  it('follows the transport to its selected pair (Chromium): relayed over TCP', async () => {
    const pc = pcWith([
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'H', remoteCandidateId: 'R' },
      {
        id: 'P2',
        type: 'candidate-pair',
        localCandidateId: 'X',
        remoteCandidateId: 'R',
        currentRoundTripTime: 0.0216,
      },
      { id: 'H', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
      {
        id: 'X',
        type: 'local-candidate',
        candidateType: 'relay',
        protocol: 'udp',
        relayProtocol: 'tcp',
      },
      { id: 'R', type: 'remote-candidate', candidateType: 'srflx', protocol: 'udp' },
    ]);
    expect(await readConnectionPath(pc)).toEqual({ kind: 'relay-tcp', rttMs: 22 });
  });

  it("takes Firefox's selected pair, and averages its round trips when there is no current one", async () => {
    const pc = pcWith([
      {
        id: 'P',
        type: 'candidate-pair',
        selected: true,
        state: 'succeeded',
        localCandidateId: 'L',
        remoteCandidateId: 'R',
        totalRoundTripTime: 0.03,
        responsesReceived: 10,
      },
      { id: 'L', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
      { id: 'R', type: 'remote-candidate', candidateType: 'host', protocol: 'udp' },
    ]);
    expect(await readConnectionPath(pc)).toEqual({ kind: 'direct', rttMs: 3 });
  });

  it('calls a path relayed when only the other end uses its relay', async () => {
    const pc = pcWith([
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' },
      { id: 'L', type: 'local-candidate', candidateType: 'srflx', protocol: 'udp' },
      { id: 'R', type: 'remote-candidate', candidateType: 'relay', protocol: 'udp' },
    ]);
    expect(await readConnectionPath(pc)).toEqual({ kind: 'relay-udp', rttMs: null });
  });

  it('is null while no pair is selected', async () => {
    const pc = pcWith([
      { id: 'P', type: 'candidate-pair', state: 'in-progress', localCandidateId: 'L' },
      { id: 'L', type: 'local-candidate', candidateType: 'relay', relayProtocol: 'tls' },
    ]);
    expect(await readConnectionPath(pc)).toBeNull();
  });
});
