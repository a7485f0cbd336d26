import { BrowserPeers } from './browser-peer';
import { shareFiles, waitForReceiveState } from './pages';
import { ShareStack, startShareStack } from './share-stack';
import { TestFiles } from './test-files';

const MB = 1024 * 1024;

describe('web app: what the sender controls', () => {
  let stack: ShareStack;
  let files: TestFiles;
  const browsers = new BrowserPeers();

  beforeAll(async () => {
    stack = await startShareStack();
    files = new TestFiles();
  });

  afterEach(async () => {
    await browsers.closeAll();
  });

  afterAll(async () => {
    await stack?.stop();
    files?.remove();
  });

  it('"Stop sharing" ends the share for everyone and kills the link', async () => {
    const big = files.create('stop/big.bin', 120 * MB);
    const [sender, receiver, late] = await Promise.all([
      browsers.launch('tx-stop'),
      browsers.launch('rx-stop'),
      browsers.launch('rx-late'),
    ]);
    const link = await shareFiles(sender.page, stack.origin, [big]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    await receiver.page
      .locator('[data-testid=file-list] li[data-state=downloading]')
      .waitFor({ timeout: 15_000 });

    await sender.page.click('[data-testid=stop-sharing]');
    await sender.page.locator('[data-testid=share-stopped]').waitFor({ timeout: 5_000 });
    expect(await sender.page.locator('[data-testid=share-link]').count()).toBe(0);
    // The receiver hears it at once (the sender's Bye), not after a timeout.
    await waitForReceiveState(receiver.page, 'sender-left', 5_000);
    // And the link leads nowhere now.
    await late.page.goto(link);
    await waitForReceiveState(late.page, 'unavailable', 15_000);
  });

  it('removing every file keeps the share (and says so) until it is stopped', async () => {
    const one = files.createText('keep/one.txt', 'one');
    const sender = await browsers.launch('tx-empty');
    const link = await shareFiles(sender.page, stack.origin, [one]);
    await sender.page.click('[data-testid=shared-files] li button.remove');
    await sender.page.locator('[data-testid=nothing-shared]').waitFor({ timeout: 5_000 });
    await expect(sender.page.locator('[data-testid=share-link]').inputValue()).resolves.toBe(link);

    const receiver = await browsers.launch('rx-empty');
    await receiver.page.goto(link);
    await receiver.page.locator('[data-testid=empty-share]').waitFor({ timeout: 15_000 });
  });

  it('"Copy link" without a clipboard selects the link and says how to copy it', async () => {
    const one = files.createText('copy/one.txt', 'one');
    const sender = await browsers.launch('tx-copy');
    await sender.context.addInitScript(() => {
      Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    });
    const link = await shareFiles(sender.page, stack.origin, [one]);
    await sender.page.getByRole('button', { name: 'Copy link' }).click();
    await sender.page.locator('[data-testid=copy-hint]').waitFor({ timeout: 5_000 });
    const selected = await sender.page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('[data-testid=share-link]')!;
      return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0);
    });
    expect(selected).toBe(link);
  });
});
