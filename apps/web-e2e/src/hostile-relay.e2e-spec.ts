import { ClientFrame, ServerFrame } from '@ephemeral/protocol';
import type { WebSocketRoute } from 'playwright-core';
import {
  BrowserPeer,
  BrowserPeers,
  savedFileHashes,
  shareFiles,
  TestFiles,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { ShareStack, startShareStack } from './share-stack';
import { rewriteAnswers, Tamper } from './signaling-relay';

/**
 * A hostile relay in front of the gateway, on the receiver's signaling
 * path: it sees and rewrites every frame, as a compromised gateway could.
 * signaling-relay.ts does the same as a real proxy (for Firefox); here
 * Playwright's routeWebSocket carries the frames.
 */
function hostileRelay(tamper: Tamper) {
  return (ws: WebSocketRoute) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      if (typeof message === 'string' || !tamper.toGateway) return server.send(message);
      const frame = tamper.toGateway(ClientFrame.decode(message));
      if (frame) server.send(Buffer.from(ClientFrame.encode(frame).finish()));
    });
    server.onMessage((message) => {
      if (typeof message === 'string' || !tamper.toPage) return ws.send(message);
      const frame = tamper.toPage(ServerFrame.decode(message));
      if (frame) ws.send(Buffer.from(ServerFrame.encode(frame).finish()));
    });
  };
}

/** An init script making the page's first 18 random bytes (its share secret) `secret`. */
function secretBytesScript(secret: string): string {
  return `(() => {
    const secret = Uint8Array.from(atob('${secret}'.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const original = crypto.getRandomValues.bind(crypto);
    let used = false;
    crypto.getRandomValues = (array) => {
      if (!used && array instanceof Uint8Array && array.length === secret.length) {
        used = true;
        array.set(secret);
        return array;
      }
      return original(array);
    };
  })();`;
}

const OTHER = Array.from({ length: 32 }, (_, i) => (i * 11 + 3).toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();
const lineOf = (sdp: string) => /^a=fingerprint:.*$/m.exec(sdp)?.[0] ?? '';

// Each keeps the sender's real fingerprint line and adds one that some
// engine might apply (Firefox connects if ANY listed fingerprint matches).
const SECOND_FINGERPRINT: Array<[string, (sdp: string) => string]> = [
  [
    'lowercase',
    (s) => s.replace(lineOf(s), `${lineOf(s)}\r\na=fingerprint:sha-256 ${OTHER.toLowerCase()}`),
  ],
  [
    'uppercase attribute',
    (s) => s.replace(lineOf(s), `${lineOf(s)}\r\nA=FINGERPRINT:SHA-256 ${OTHER}`),
  ],
  ['leading space', (s) => s.replace(lineOf(s), `${lineOf(s)}\r\n a=fingerprint:sha-256 ${OTHER}`)],
  ['session level', (s) => s.replace('t=0 0\r\n', `t=0 0\r\na=fingerprint:sha-256 ${OTHER}\r\n`)],
  [
    'other algorithm',
    (s) => s.replace(lineOf(s), `${lineOf(s)}\r\na=fingerprint:sha-1 ${OTHER.slice(0, 59)}`),
  ],
];

describe('web app: a hostile relay between the receiver and the gateway', () => {
  let stack: ShareStack;
  let files: TestFiles;
  let secretFile: string;
  const browsers = new BrowserPeers();

  beforeAll(async () => {
    stack = await startShareStack();
    files = new TestFiles();
    secretFile = files.createText('top-secret-plans.txt', 'only the sender may serve this');
  });

  afterEach(async () => {
    await browsers.closeAll();
  });

  afterAll(async () => {
    await stack?.stop();
    files?.remove();
  });

  async function expectNothingRevealed(peer: BrowserPeer): Promise<void> {
    expect(await peer.page.locator('[data-testid=file-list]').count()).toBe(0);
    expect(await peer.page.content()).not.toContain('top-secret-plans');
  }

  it('is transparent when it tampers with nothing: the file transfers and verifies', async () => {
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-honest'),
      browsers.launch('rx-honest'),
    ]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    await receiver.page.routeWebSocket(/\/ws$/, hostileRelay({}));
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    expect(await waitForFilesSettled(receiver.page, 1, 30_000)).toEqual({
      'top-secret-plans.txt': 'verified',
    });
    expect(await savedFileHashes(receiver.page)).toEqual({
      'top-secret-plans.txt': files.hashes.get('top-secret-plans.txt'),
    });
  });

  it.each(SECOND_FINGERPRINT)(
    'refuses an answer with a second fingerprint line (%s)',
    async (variant, rewrite) => {
      const [sender, receiver] = await Promise.all([
        browsers.launch(`tx-fp-${variant.replace(/\W/g, '')}`),
        browsers.launch(`rx-fp-${variant.replace(/\W/g, '')}`),
      ]);
      const link = await shareFiles(sender.page, stack.origin, [secretFile]);
      await receiver.page.routeWebSocket(/\/ws$/, hostileRelay(rewriteAnswers(rewrite)));
      await receiver.page.goto(link);
      await waitForReceiveState(receiver.page, 'secret-mismatch');
      await expectNothingRevealed(receiver);
    },
  );

  it('refuses a recipient turned impostor: same secret, its own certificate', async () => {
    const [sender, impostor, receiver] = await Promise.all([
      browsers.launch('tx-real'),
      browsers.launch('tx-impostor'),
      browsers.launch('rx-impostor'),
    ]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    // The impostor holds the link, so it knows the secret: its page shares
    // under that secret (its random secret is replaced), with its own
    // certificate, which it cannot replace by the sender's.
    await impostor.context.addInitScript(secretBytesScript(link.split('#')[1].split('.')[0]));
    const bait = files.createText('bait/invoice.pdf.exe', 'not from the sender');
    const impostorLink = await shareFiles(impostor.page, stack.origin, [bait]);
    expect(impostorLink.split('#')[1].split('.')[0]).toBe(link.split('#')[1].split('.')[0]);
    const senderId = new URL(link).pathname.split('/').pop()!;
    const impostorId = new URL(impostorLink).pathname.split('/').pop()!;
    // Everything the receiver sends to the sender goes to the impostor, and
    // the impostor's answers look as if they came from the sender.
    await receiver.page.routeWebSocket(
      /\/ws$/,
      hostileRelay({
        toGateway: (frame) => {
          if (frame.kind?.$case === 'signal' && frame.kind.value.to === senderId)
            frame.kind.value.to = impostorId;
          return frame;
        },
        toPage: (frame) => {
          if (frame.kind?.$case === 'signal' && frame.kind.value.from === impostorId)
            frame.kind.value.from = senderId;
          return frame;
        },
      }),
    );
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'secret-mismatch');
    await expectNothingRevealed(receiver);
    expect(await receiver.page.content()).not.toContain('invoice');
    // The impostor got an offer it could admit (it has the secret), answered
    // with its own certificate, and never saw a proof: no receiver connected.
    expect(
      await impostor.page.locator('[data-testid=receivers] li[data-state=connected]').count(),
    ).toBe(0);
  });

  it('says a link from before certificate pinning is outdated', async () => {
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-old'),
      browsers.launch('rx-old'),
    ]);
    const link = await shareFiles(sender.page, stack.origin, [secretFile]);
    await receiver.page.goto(link.replace(/\.[^.]*$/, ''));
    await waitForReceiveState(receiver.page, 'outdated-link');
    await expectNothingRevealed(receiver);
  });
});
