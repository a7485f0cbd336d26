import { ErrorCode } from '@ephemeral/protocol';
import { SignalingClient, signals } from '@ephemeral/testing';

import {
  BrowserPeers,
  dataBytes,
  savedFileHashes,
  shareFiles,
  TestFiles,
  waitForDataBytes,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { ShareStack, startShareStack } from './share-stack';

const MB = 1024 * 1024;
const FLOODERS = 10;
// Offers just under the default MAX_SDP_BYTES (32 KiB), within each
// flooder's per-connection burst (100 frames): the per-target limits are
// what stops them.
const FLOOD_SDP = `v=0\r\n${'a=x-flood\r\n'.repeat(2_900)}`;
const OFFERS_PER_FLOODER = 90;

describe('web app: a download survives ten sockets flooding its sender with signals', () => {
  let stack: ShareStack;
  let files: TestFiles;
  const browsers = new BrowserPeers();
  const flooders: SignalingClient[] = [];

  beforeAll(async () => {
    stack = await startShareStack();
    files = new TestFiles();
  });

  afterAll(async () => {
    await Promise.all(flooders.map((flooder) => flooder.terminate()));
    await browsers.closeAll();
    await stack?.stop();
    files?.remove();
  });

  it('the download still verifies; the flooders get RATE_LIMITED; the sender is never closed', async () => {
    const size = 60 * MB;
    const path = files.create('flood/big.bin', size);
    const [sender, receiver] = await Promise.all([
      browsers.launch('flood-sender'),
      browsers.launch('flood-rx'),
    ]);
    const link = await shareFiles(sender.page, stack.origin, [path]);
    const senderId = /\/s\/([0-9a-f-]{36})#/.exec(link)?.[1];
    if (!senderId) throw new Error(`no peer ID in ${link}`);

    const wsUrl = `${stack.origin.replace(/^http/, 'ws')}/ws`;
    for (let i = 0; i < FLOODERS; i++) flooders.push(await SignalingClient.connectAndHello(wsUrl));

    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    await waitForDataBytes(receiver.page, size / 10);

    expect(await dataBytes(receiver.page)).toBeLessThan(size);
    // Mid-download: 900 offers of ~32 KiB (28 MB) at the sender's peer ID.
    for (const flooder of flooders) {
      for (let n = 0; n < OFFERS_PER_FLOODER; n++)
        flooder.signal(senderId, signals.offer(FLOOD_SDP));
    }
    // Each flooder's pong comes after all its offers were relayed or refused.
    await Promise.all(
      flooders.map(async (flooder, i) => {
        flooder.send({ seq: flooder.nextSeq(), kind: { $case: 'ping', value: { nonce: i } } });
        await flooder.next('pong', 30_000);
      }),
    );
    for (const flooder of flooders) {
      const refused = flooder.pendingFrames('error');
      expect(refused.length).toBeGreaterThan(OFFERS_PER_FLOODER / 2);
      expect(refused[0]).toMatchObject({
        code: ErrorCode.ERROR_CODE_RATE_LIMITED,
        peerId: senderId,
      });
    }

    const states = await waitForFilesSettled(receiver.page, 1, 90_000);
    expect(states).toEqual({ 'big.bin': 'verified' });
    expect(Object.values(await savedFileHashes(receiver.page))).toEqual([
      files.hashes.get('flood/big.bin'),
    ]);
    // The sender's signaling socket was never closed as a slow consumer.
    expect(
      stack.gateway.logRecords().filter((r) => r.msg === 'client does not read; closing'),
    ).toEqual([]);
  });
});
