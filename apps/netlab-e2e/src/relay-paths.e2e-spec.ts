import { filesSettled, listedFiles, receiveState, shareFrom } from '@ephemeral/browser-testing';

import { eventually } from '@ephemeral/testing';

import { labSuite } from './lab-suite';
import { restCredential, startWanEcho, uclientFrom } from './lab-uclient';
import type { LabMode } from './netlab';
import { dataPair, gatherWith, iceStates } from './rtc-probe';

const MB = 1024 * 1024;

/** What the receiver page's connection-path element says in each firewall mode. */
const PATH_SHOWN: Record<LabMode, string> = {
  open: 'relay-udp',
  'block-udp': 'relay-tcp',
  'tcp443-only': 'relay-tls',
};

describe('netlab: two LANs behind symmetric NATs, only coturn in between', () => {
  const suite = labSuite('turn');

  /** A file set in LAN A, shared, downloaded in LAN B, verified on disk. */
  async function transfer(
    tag: string,
    mode: LabMode,
    senderEngine: 'chromium' | 'firefox' = 'chromium',
  ) {
    const { lab, stack, files, peers } = suite;
    await lab.mode(mode);
    const big = files.create(`${tag}/big.bin`, 6 * MB + 7);
    files.create(`${tag}/album/one.jpg`, 1 * MB + 3);
    files.createText(`${tag}/album/notes.txt`, `across the lab, ${mode}\n`);
    const relayedBefore = await lab.relayed();
    const droppedBefore = await lab.dropped();
    const [sender, receiver] = await Promise.all([
      senderEngine === 'firefox'
        ? peers.firefox('a', `${tag}-sender`)
        : peers.chromium('a', `${tag}-sender`),
      peers.chromium('b', `${tag}-receiver`),
    ]);
    const link = await shareFrom(sender, stack.origin, [big], `${files.root}/${tag}/album`);
    await receiver.goto(link);
    await receiveState(receiver, 'ready', 60_000);
    // Served over HTTPS the browser verified: a secure context, as for a user.
    expect(await receiver.evaluate(() => [location.protocol, window.isSecureContext])).toEqual([
      'https:',
      true,
    ]);
    expect(await listedFiles(receiver)).toEqual(['album/notes.txt', 'album/one.jpg', 'big.bin']);
    // The page tells its user the same path getStats shows (checked below).
    await receiver.waitForSelector(
      `[data-testid=connection-path][data-path=${PATH_SHOWN[mode]}]`,
      30_000,
    );
    await receiver.click('[data-testid=download-all]');
    expect(await filesSettled(receiver, 3, 90_000)).toEqual({
      'big.bin': 'verified',
      'album/one.jpg': 'verified',
      'album/notes.txt': 'verified',
    });
    expect(await receiver.savedFileHashes()).toEqual({
      'big.bin': files.hashes.get(`${tag}/big.bin`),
      'album/one.jpg': files.hashes.get(`${tag}/album/one.jpg`),
      'album/notes.txt': files.hashes.get(`${tag}/album/notes.txt`),
    });
    const relayedAfter = await lab.relayed();
    return {
      /** Packets the routers' firewall dropped meanwhile (the browsers tried and were blocked). */
      dropped: (await lab.dropped()) - droppedBefore,
      sent: await dataPair(sender, 'sent'),
      received: await dataPair(receiver, 'received'),
      relayedBytes: relayedAfter.bytes - relayedBefore.bytes,
    };
  }

  it('relays over TURN/UDP between two symmetric NATs', async () => {
    const { sent, received, relayedBytes } = await transfer('udp', 'open');
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'udp' });
    expect(sent.local).toMatchObject({ type: 'relay', relayProtocol: 'udp' });
    expect(received.bytesReceived).toBeGreaterThan(7 * MB);
    // coturn itself moved the bytes from one allocation to the other.
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });

  it('relays over TURN/TCP when the routers drop all UDP', async () => {
    const { sent, received, relayedBytes, dropped } = await transfer('tcp', 'block-udp');
    // The browsers did try UDP (STUN, TURN/UDP): the firewall dropped it.
    expect(dropped).toBeGreaterThan(0);
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'tcp' });
    expect(sent.local).toMatchObject({ type: 'relay', relayProtocol: 'tcp' });
    expect(received.bytesReceived).toBeGreaterThan(7 * MB);
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });

  it('relays over TURNS on 443 when the routers let nothing but TCP 443 through', async () => {
    const { sent, received, relayedBytes, dropped } = await transfer('tls', 'tcp443-only');
    expect(dropped).toBeGreaterThan(0);
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
    expect(sent.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
    expect(received.local.url).toMatch(/^turns:198\.18\.0\.10:443\b/);
    expect(received.bytesReceived).toBeGreaterThan(7 * MB);
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });

  it('HTTPS and TURNS are trusted through the certificate store: a Chromium without the lab CA gets neither the page nor a TLS relay', async () => {
    const { lab, stack, peers } = suite;
    await lab.mode('tcp443-only');
    const credential = restCredential(lab.turnSecret, Math.floor(Date.now() / 1000) + 600, 'trust');
    const server = {
      urls: `turns:${lab.turnIp}:443?transport=tcp`,
      username: credential.username,
      credential: credential.password,
    };
    const [trusting, untrusting] = await Promise.all([
      peers.chromium('b', 'ca-trusted'),
      peers.chromium('b', 'ca-missing', false),
    ]);
    // The untrusting one gathers on its first, blank page.
    await trusting.goto(stack.origin + '/');
    const [withCa, withoutCa] = await Promise.all([
      gatherWith(trusting, server),
      gatherWith(untrusting, server),
    ]);
    expect(withCa.types).toContain('relay');
    expect(withoutCa.types).not.toContain('relay');
    // The gateway's HTTPS is refused too without the CA: no error is ignored.
    await expect(untrusting.goto(stack.origin + '/')).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
  });

  it('Firefox in LAN A sends to Chromium in LAN B across the NATs, relayed over TURN/UDP', async () => {
    const { sent, received, relayedBytes } = await transfer('ff', 'open', 'firefox');
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'udp' });
    expect(sent.local).toMatchObject({ type: 'relay' });
    expect(sent.bytesSent).toBeGreaterThan(7 * MB);
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });

  it('Chromium in LAN A sends to Firefox in LAN B, relayed; the download verifies on disk', async () => {
    const { lab, stack, files, peers } = suite;
    const path = files.create('to-ff/movie.bin', 5 * MB + 3);
    const relayedBefore = await lab.relayed();
    const [sender, receiver] = await Promise.all([
      peers.chromium('a', 'to-ff-sender'),
      peers.firefox('b', 'to-ff-receiver'),
    ]);
    const link = await shareFrom(sender, stack.origin, [path]);
    await receiver.goto(link);
    await receiveState(receiver, 'ready', 60_000);
    await receiver.click('[data-file="movie.bin"] [data-testid=download-file]');
    expect(await filesSettled(receiver, 1, 90_000)).toEqual({ 'movie.bin': 'verified' });
    // Streamed by the app's service worker into Firefox's download folder.
    expect(await receiver.downloadHashes(1)).toEqual({
      'movie.bin': files.hashes.get('to-ff/movie.bin'),
    });
    const received = await dataPair(receiver, 'received');
    expect(received.local.type).toBe('relay');
    expect(received.bytesReceived).toBeGreaterThan(5 * MB);
    expect((await lab.relayed()).bytes - relayedBefore.bytes).toBeGreaterThan(5 * MB);
  });

  it("keeps a file through the receiver's link going down mid-file: it verifies, nothing restarts from zero", async () => {
    const { lab, stack, files, peers } = suite;
    const size = 24 * MB;
    const path = files.create('cut/large.bin', size);
    const [sender, receiver] = await Promise.all([
      peers.chromium('a', 'cut-sender'),
      peers.chromium('b', 'cut-receiver'),
    ]);
    const link = await shareFrom(sender, stack.origin, [path]);
    await receiver.goto(link);
    await receiveState(receiver, 'ready', 60_000);
    await receiver.click('[data-testid=download-all]');
    await receiver.waitForFunction(
      (n) => (window as unknown as { __e2e: { dataBytes: number } }).__e2e.dataBytes > n,
      size / 4,
      60_000,
    );
    await lab.link('b', 'down');
    try {
      // Down until the receiver's ICE agent noticed (consent checks unanswered).
      await eventually(async () => (await iceStates(receiver)).includes('disconnected'), {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: "the receiver's connection noticed the link went down",
      });
    } finally {
      await lab.link('b', 'up');
    }
    const atDrop = await receiver.dataBytes();
    expect(atDrop).toBeLessThan(size);
    expect(await filesSettled(receiver, 1, 120_000)).toEqual({ 'large.bin': 'verified' });
    expect(await receiver.savedFileHashes()).toEqual({
      'large.bin': files.hashes.get('cut/large.bin'),
    });
    // Resumed, not restarted: about one file on the wire (starting over
    // would have cost size + atDrop).
    expect(await receiver.dataBytes()).toBeLessThan(size + atDrop / 2);
  });

  describe("coturn's own check of TURN REST credentials, from behind a NAT", () => {
    const now = () => Math.floor(Date.now() / 1000);
    let echo: { stop(): void } | undefined;
    beforeAll(async () => {
      echo = await startWanEcho(suite.lab);
    });
    afterAll(() => echo?.stop());

    it('allocates with a credential minted from its secret', async () => {
      const { lab } = suite;
      const run = await uclientFrom(lab, 'a', restCredential(lab.turnSecret, now() + 600, 'valid'));
      expect(run.output).not.toContain('Cannot complete Allocation');
      // All three came back through the relay from the echo peer.
      expect(run.output).toContain('tot_send_msgs=3, tot_recv_msgs=3');
      expect(run.exitCode).toBe(0);
    });

    it('refuses an expired credential', async () => {
      const { lab } = suite;
      const expired = restCredential(lab.turnSecret, now() - 60, 'expired');
      const run = await uclientFrom(lab, 'a', expired);
      expect(run.output).toContain('Cannot complete Allocation');
      expect(run.output).not.toContain('tot_send_msgs=3');
      expect(lab.coturnLog()).toContain(`Cannot find credentials of user <${expired.username}>`);
    });

    it('refuses a credential forged with another secret', async () => {
      const { lab } = suite;
      const forged = restCredential('not-the-secret-coturn-was-given', now() + 600, 'forged');
      const run = await uclientFrom(lab, 'b', forged);
      expect(run.output).toContain('Cannot complete Allocation');
      expect(run.output).not.toContain('tot_send_msgs=3');
    });
  });
});
