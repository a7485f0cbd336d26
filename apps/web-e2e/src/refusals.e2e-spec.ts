import { ServerFrame, ClientFrame } from '@ephemeral/protocol';
import { randomUUID } from 'node:crypto';
import type { WebSocketRoute } from 'playwright-core';
import { expectAccessible } from './axe';
import {
  BrowserPeer,
  BrowserPeers,
  shareFiles,
  TestFiles,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { ShareStack, startShareStack } from './share-stack';

const MB = 1024 * 1024;
const FAKE_FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7 + 1).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

/** Rewrites every DTLS fingerprint in an SDP to one the relay controls. */
function swapFingerprint(sdp: string): string {
  return sdp.replace(/^a=fingerprint:(\S+) .*$/gm, `a=fingerprint:sha-256 ${FAKE_FINGERPRINT}`);
}

/**
 * A test double of a compromised signaling path: relays the page's WebSocket
 * to the real gateway but swaps the DTLS fingerprint in offers (browser ->
 * gateway) or answers (gateway -> browser), as a man in the middle would.
 */
function fingerprintSwappingRelay(direction: 'offer' | 'answer') {
  return (ws: WebSocketRoute) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      if (direction === 'offer' && typeof message !== 'string') {
        const frame = ClientFrame.decode(message);
        if (frame.kind?.$case === 'signal' && frame.kind.value.signal?.payload?.$case === 'offer') {
          const offer = frame.kind.value.signal.payload.value;
          offer.sdp = swapFingerprint(offer.sdp);
          server.send(Buffer.from(ClientFrame.encode(frame).finish()));
          return;
        }
      }
      server.send(message);
    });
    server.onMessage((message) => {
      if (direction === 'answer' && typeof message !== 'string') {
        const frame = ServerFrame.decode(message);
        if (
          frame.kind?.$case === 'signal' &&
          frame.kind.value.signal?.payload?.$case === 'answer'
        ) {
          const answer = frame.kind.value.signal.payload.value;
          answer.sdp = swapFingerprint(answer.sdp);
          ws.send(Buffer.from(ServerFrame.encode(frame).finish()));
          return;
        }
      }
      ws.send(message);
    });
  };
}

/** A signaling path that relays everything except ICE candidates. */
function candidateDroppingRelay(ws: WebSocketRoute): void {
  const server = ws.connectToServer();
  ws.onMessage((message) => {
    if (typeof message !== 'string') {
      const frame = ClientFrame.decode(message);
      if (frame.kind?.$case === 'signal' && frame.kind.value.signal?.payload?.$case === 'candidate')
        return;
    }
    server.send(message);
  });
  server.onMessage((message) => {
    if (typeof message !== 'string') {
      const frame = ServerFrame.decode(message);
      if (frame.kind?.$case === 'signal' && frame.kind.value.signal?.payload?.$case === 'candidate')
        return;
    }
    ws.send(message);
  });
}

describe('web app: refusals and endings', () => {
  let stack: ShareStack;
  let files: TestFiles;
  let secretFile: string;
  const browsers = new BrowserPeers();

  beforeAll(async () => {
    stack = await startShareStack();
    files = new TestFiles();
    secretFile = files.createText(
      'top-secret-plans.txt',
      'nobody without the secret may read this name',
    );
  });

  afterEach(async () => {
    await browsers.closeAll();
  });

  afterAll(async () => {
    await stack?.stop();
    files?.remove();
  });

  const launch = (name: string) => browsers.launch(name);

  async function expectNothingRevealed(peer: BrowserPeer): Promise<void> {
    expect(await peer.page.locator('[data-testid=file-list]').count()).toBe(0);
    expect(await peer.page.content()).not.toContain('top-secret-plans');
  }

  it("shows the app's own page for an unknown address, with a way back", async () => {
    const visitor = await launch('rx-404');
    const response = await visitor.page.goto(`${stack.origin}/no/such/page`);
    expect(response?.status()).toBe(404);
    await visitor.page.locator('[data-testid=not-found]').waitFor({ timeout: 10_000 });
    expect(await visitor.page.title()).toBe('Page not found · Ephemeral Share');
    await expectAccessible(visitor.page, 'not-found page');
    await visitor.page.getByRole('link', { name: 'Send files' }).click();
    await visitor.page.locator('[data-testid=file-input]').waitFor({ state: 'attached' });
  });

  it('says "no longer available" for a link to a peer that is not online', async () => {
    const receiver = await launch('rx-wrong-link');
    await receiver.page.goto(
      `${stack.origin}/s/${randomUUID()}#${'A'.repeat(24)}.${'A'.repeat(43)}`,
    );
    await waitForReceiveState(receiver.page, 'unavailable', 15_000);
    await expect(receiver.page.getByText('no longer available').count()).resolves.toBe(1);
    await expectAccessible(receiver.page, 'share no longer available');
  });

  it('refuses a link with the wrong #secret and shows no file names', async () => {
    const [sender, receiver] = await Promise.all([launch('tx-secret'), launch('rx-secret')]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    // The right certificate fingerprint, the wrong secret.
    const wrong = link.replace(/#[^.]*/, '#BBBBBBBBBBBBBBBBBBBBBBBB');
    await receiver.page.goto(wrong);
    await waitForReceiveState(receiver.page, 'secret-mismatch');
    await expectNothingRevealed(receiver);
    await expectAccessible(receiver.page, 'wrong link secret');
    // The sender saw (and refused) the attempt.
    await sender.page
      .locator('[data-testid=receivers] li[data-state=rejected]')
      .waitFor({ timeout: 10_000 });
  });

  it("refuses the transfer when a relay swaps the sender's DTLS fingerprint", async () => {
    const [sender, receiver] = await Promise.all([launch('tx-mitm-a'), launch('rx-mitm-a')]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    await receiver.page.routeWebSocket(/\/ws$/, fingerprintSwappingRelay('answer'));
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'secret-mismatch');
    await expectNothingRevealed(receiver);
  });

  it("refuses the transfer when a relay swaps the receiver's DTLS fingerprint", async () => {
    const [sender, receiver] = await Promise.all([launch('tx-mitm-o'), launch('rx-mitm-o')]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    await receiver.page.routeWebSocket(/\/ws$/, fingerprintSwappingRelay('offer'));
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'secret-mismatch');
    await expectNothingRevealed(receiver);
    await sender.page
      .locator('[data-testid=receivers] li[data-state=rejected]')
      .waitFor({ timeout: 10_000 });
  });

  it('says the connection could not be made when ICE finds no path, instead of spinning', async () => {
    const [sender, receiver] = await Promise.all([launch('tx-ice'), launch('rx-ice')]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    // No ICE candidate gets through in either direction: to both browsers it
    // is as if they sat behind firewalls with no TURN server in between.
    await receiver.page.routeWebSocket(/\/ws$/, candidateDroppingRelay);
    await receiver.page.goto(link);
    // Three dials with their ICE restarts fit in the receiver's 45 s deadline.
    await waitForReceiveState(receiver.page, 'connection-failed', 60_000);
    // No pair worked and no TURN server refused: the network is to blame.
    await receiver.page
      .locator('[data-testid=connect-failure][data-failure-cause=network-blocked]')
      .waitFor({ timeout: 5_000 });
    await expectNothingRevealed(receiver);
  });

  it('tells the receiver when the sender closes the tab mid-transfer', async () => {
    const big = files.create('leaving/big.bin', 150 * MB);
    const [sender, receiver] = await Promise.all([launch('tx-leave'), launch('rx-leave')]);
    const link = await shareFiles(sender.page, stack.origin, [big]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    await receiver.page
      .locator('[data-testid=file-list] li[data-state=downloading]')
      .waitFor({ timeout: 15_000 });
    await sender.page.close();
    await waitForReceiveState(receiver.page, 'sender-left', 20_000);
    // The file's own row settles a moment later: the download queue batches
    // state changes (at most one emit per 200 ms, ADR 0027).
    await receiver.page
      .locator('[data-testid=file-list] li[data-state=failed]')
      .waitFor({ timeout: 5_000 });
    // Said in words: what happened, what was kept, what to do; no raw codes,
    // no stale speed, no buttons that can no longer work.
    await expect(receiver.page.locator('[data-testid=outcome]').innerText()).resolves.toBe(
      '1 file did not finish, and nothing of it was kept.',
    );
    const text = await receiver.page.locator('body').innerText();
    expect(text).toContain('ask the sender to open Ephemeral Share again');
    expect(text).not.toContain('sender-left');
    expect(text).not.toMatch(/B\/s/);
    expect(await receiver.page.locator('[data-testid=download-all]').count()).toBe(0);
    await expectAccessible(receiver.page, 'sender left mid-transfer');
  });
});
