import '@angular/compiler'; // JIT: the stores' @Injectable metadata is compiled at run time
import { eventually } from '@ephemeral/eventually';
import { FakePageEnvironment } from '../fake-page-environment';
import { storeFixture } from '../store-fixture';
import { ShareStore } from '../send/share-store';
import { parseLinkFragment } from '../transfer/auth/link-fragment';
import { DownloadSession } from '../transfer/receive/download-session';
import { FakeDirectory } from '../transfer/save/fake-directory';
import { DownloadStore } from './download-store';

// A receive page's main.ts starts the download session before the app is
// bootstrapped (startDownloadEarly, ADR 0034); the page's store takes it
// over in whatever state it reached, instead of connecting again.
describe('DownloadStore with a session started before it', () => {
  const storeIn = storeFixture();

  /** A sender sharing `names` (a few bytes each) on `env`'s gateway; its link's peer ID and fragment. */
  async function share(env: FakePageEnvironment, names: string[]) {
    const sender = storeIn(ShareStore, env).store;
    sender.add(
      names.map((name, i) => ({
        file: new File([new Uint8Array([i, i + 1, i + 2])], name),
        relativePath: name,
      })),
    );
    await eventually(() => sender.link() !== null, { description: 'share link' });
    const url = new URL(sender.link()!);
    return { senderId: url.pathname.split('/').pop()!, fragment: url.hash };
  }

  /** What startDownloadEarly() does, on the fake page: a session for the link, started. */
  function startEarly(env: FakePageEnvironment, link: { senderId: string; fragment: string }) {
    const parsed = parseLinkFragment(link.fragment);
    if (parsed.kind !== 'valid') throw new Error('the spec made an invalid link');
    const session = new DownloadSession(
      env.createSignaling(),
      link.senderId,
      parsed.secret,
      parsed.fingerprint,
      env.createPeerConnection,
      env.receiverHash,
    );
    env.startedDownload = { ...link, session };
    void session.start();
    return session;
  }

  it('shows the file list the started session already received, without connecting again', async () => {
    const senderEnv = new FakePageEnvironment();
    const link = await share(senderEnv, ['a.txt', 'b.txt']);
    const folder = new FakeDirectory();
    const env = new FakePageEnvironment(senderEnv.gateway, {
      showDirectoryPicker: async () => folder as unknown as FileSystemDirectoryHandle,
    });
    const session = startEarly(env, link);
    await eventually(() => session.state === 'ready', { description: 'session ready' });

    const store = storeIn(DownloadStore, env).store;
    store.start(link.senderId, link.fragment);
    // At once: the manifest and the state came before the store listened.
    expect(store.state()).toBe('ready');
    expect(store.files().map((f) => f.relativePath)).toEqual(['a.txt', 'b.txt']);
    expect(store.myName()).not.toBeNull();
    expect(env.signalingClients).toHaveLength(1);
    expect(env.startedDownload).toBeNull();

    // And it downloads through that session.
    await store.download(store.files());
    await eventually(() => store.counts().verified === 2, { description: 'both verified' });
    expect(Buffer.concat(folder.files.get('a.txt') ?? [])).toEqual(Buffer.from([0, 1, 2]));
  });

  it('follows a started session that is still connecting', async () => {
    const senderEnv = new FakePageEnvironment();
    const link = await share(senderEnv, ['a.txt']);
    const env = new FakePageEnvironment(senderEnv.gateway);
    startEarly(env, link);

    const store = storeIn(DownloadStore, env).store;
    store.start(link.senderId, link.fragment);
    expect(store.state()).toBe('connecting');
    await eventually(() => store.state() === 'ready', { description: 'ready' });
    expect(store.files().map((f) => f.relativePath)).toEqual(['a.txt']);
    expect(env.signalingClients).toHaveLength(1);
  });

  it('starts its own session when the started one is for another link', async () => {
    const senderEnv = new FakePageEnvironment();
    const link = await share(senderEnv, ['a.txt']);
    const other = await share(senderEnv, ['b.txt']);
    const env = new FakePageEnvironment(senderEnv.gateway);
    const early = startEarly(env, other);

    const store = storeIn(DownloadStore, env).store;
    store.start(link.senderId, link.fragment);
    await eventually(() => store.state() === 'ready', { description: 'ready' });
    expect(store.files().map((f) => f.relativePath)).toEqual(['a.txt']);
    expect(env.signalingClients).toHaveLength(2);
    early.close();
  });
});
