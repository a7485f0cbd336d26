import { INFRASTRUCTURE_TIMEOUT_MS, MetricsSnapshot } from '@ephemeral/testing';

import {
  BrowserPeers,
  savedFileHashes,
  shareFiles,
  TestFiles,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { DistributedShareStack, linkOn, startDistributedShareStack } from './share-stack';

const MB = 1024 * 1024;
const SENDER_GATEWAY = 0;
const RECEIVER_GATEWAY = 1;

// The distributed mode (issue 4): the sender's page is served by and signals
// through gateway 1, the receiver's through gateway 2. Offer, answer and ICE
// cross Kafka; the sender's lease is found through the shared Redis store.
describe('web app across two gateways (Kafka signal bus, presence on Redis)', () => {
  let shares: DistributedShareStack;
  let files: TestFiles;
  const browsers = new BrowserPeers();

  beforeAll(async () => {
    shares = await startDistributedShareStack();
    files = new TestFiles();
  }, INFRASTRUCTURE_TIMEOUT_MS);

  afterEach(async () => {
    await browsers.closeAll();
  });

  afterAll(async () => {
    await shares?.stop();
    files?.remove();
  });

  const launch = (name: string) => browsers.launch(name);

  const metrics = (gateway: number): Promise<MetricsSnapshot> =>
    shares.stack.scrapeGatewayMetrics(gateway);

  it('moves a 40 MB file and a folder from a page on gateway 1 to a page on gateway 2, every file on disk with the same SHA-256', async () => {
    const big = files.create('big.bin', 40 * MB + 123);
    files.create('album/photos/one.jpg', 3 * MB + 17);
    files.create('album/photos/two.jpg', 1 * MB);
    files.createText('album/notes/readme.txt', 'hello across two gateways\n');
    files.create('album/empty.bin', 0);
    const [sender, receiver] = await Promise.all([launch('xgw-sender'), launch('xgw-receiver')]);
    const before = await Promise.all([metrics(SENDER_GATEWAY), metrics(RECEIVER_GATEWAY)]);

    const senderOrigin = shares.origins[SENDER_GATEWAY];
    const receiverOrigin = shares.origins[RECEIVER_GATEWAY];
    expect(senderOrigin).not.toBe(receiverOrigin);
    const link = await shareFiles(sender.page, senderOrigin, [big], `${files.root}/album`);
    expect(link.startsWith(`${senderOrigin}/s/`)).toBe(true);
    expect(link).toMatch(/\/s\/[0-9a-f-]{36}#[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);

    // The same share, opened through the other gateway.
    const receiverLink = linkOn(receiverOrigin, link);
    await receiver.page.goto(receiverLink);
    await waitForReceiveState(receiver.page, 'ready');
    expect(receiver.page.url()).toBe(receiverLink);
    const listed = await receiver.page
      .locator('[data-testid=file-list] li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-file')));
    expect(listed.sort()).toEqual([
      'album/empty.bin',
      'album/notes/readme.txt',
      'album/photos/one.jpg',
      'album/photos/two.jpg',
      'big.bin',
    ]);

    // Each page holds its socket on its own gateway, and the handshake crossed
    // the bus both ways: the receiver's offer went in at gateway 2 and out at
    // gateway 1, the sender's answer the other way round.
    const [senderGw, receiverGw] = await Promise.all([
      metrics(SENDER_GATEWAY),
      metrics(RECEIVER_GATEWAY),
    ]);
    expect(senderGw.value('ephemeral_gateway_peers_connected')).toBe(1);
    expect(receiverGw.value('ephemeral_gateway_peers_connected')).toBe(1);
    expect(
      receiverGw.delta(before[1], 'ephemeral_gateway_signals_relayed_total', { kind: 'offer' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      senderGw.delta(before[0], 'ephemeral_gateway_signals_delivered_total', { kind: 'offer' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      senderGw.delta(before[0], 'ephemeral_gateway_signals_relayed_total', { kind: 'answer' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      receiverGw.delta(before[1], 'ephemeral_gateway_signals_delivered_total', { kind: 'answer' }),
    ).toBeGreaterThanOrEqual(1);

    await receiver.page.click('[data-testid=download-all]');
    const states = await waitForFilesSettled(receiver.page, 5, 60_000);
    expect(states).toEqual({
      'album/empty.bin': 'verified',
      'album/notes/readme.txt': 'verified',
      'album/photos/one.jpg': 'verified',
      'album/photos/two.jpg': 'verified',
      'big.bin': 'verified',
    });

    const onDisk = await savedFileHashes(receiver.page);
    expect(onDisk).toEqual(Object.fromEntries(files.hashes));
  });
});
