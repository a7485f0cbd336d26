import { filesSettled, listedFiles, receiveState, shareFrom } from '../../web-e2e/src/peer-pages';

import { labSuite } from './lab-suite';
import type { LabMode } from './netlab';
import { dataPair } from './rtc-probe';

const MB = 1024 * 1024;

describe('netlab: two LANs behind symmetric NATs, only coturn in between', () => {
  const suite = labSuite('turn');

  /** A file set in LAN A, shared, downloaded in LAN B, verified on disk. */
  async function transfer(tag: string, mode: LabMode) {
    const { lab, stack, files, peers } = suite;
    await lab.mode(mode);
    const big = files.create(`${tag}/big.bin`, 6 * MB + 7);
    files.create(`${tag}/album/one.jpg`, 1 * MB + 3);
    files.createText(`${tag}/album/notes.txt`, `across the lab, ${mode}\n`);
    const relayedBefore = await lab.relayed();
    const [sender, receiver] = await Promise.all([
      peers.chromium('a', `${tag}-sender`),
      peers.chromium('b', `${tag}-receiver`),
    ]);
    const link = await shareFrom(sender, stack.origin, [big], `${files.root}/${tag}/album`);
    await receiver.goto(link);
    await receiveState(receiver, 'ready', 60_000);
    expect(await listedFiles(receiver)).toEqual(['album/notes.txt', 'album/one.jpg', 'big.bin']);
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
      sent: await dataPair(sender, 'sent'),
      received: await dataPair(receiver, 'received'),
      relayedBytes: relayedAfter.bytes - relayedBefore.bytes,
    };
  }

  it('relays over TURN/UDP between two symmetric NATs', async () => {
    const { sent, received, relayedBytes } = await transfer('udp', 'open');
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'udp' });
    expect(sent.local).toMatchObject({ type: 'relay', relayProtocol: 'udp' });
    console.log(JSON.stringify({ sent, received, relayedBytes }));
    expect(received.bytesReceived).toBeGreaterThan(7 * MB);
    // coturn itself moved the bytes from one allocation to the other.
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });

  it('relays over TURN/TCP when the routers drop all UDP', async () => {
    const { sent, received, relayedBytes } = await transfer('tcp', 'block-udp');
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'tcp' });
    expect(sent.local).toMatchObject({ type: 'relay', relayProtocol: 'tcp' });
    expect(received.bytesReceived).toBeGreaterThan(7 * MB);
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });

  it('relays over TURNS on 443 when the routers let nothing but TCP 443 through', async () => {
    const { sent, received, relayedBytes } = await transfer('tls', 'tcp443-only');
    expect(received.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
    expect(sent.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
    expect(received.local.url).toMatch(/^turns:198\.18\.0\.10:443\b/);
    expect(received.bytesReceived).toBeGreaterThan(7 * MB);
    expect(relayedBytes).toBeGreaterThan(7 * MB);
  });
});
