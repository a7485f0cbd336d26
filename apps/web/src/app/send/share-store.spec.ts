import '@angular/compiler'; // JIT: the stores' @Injectable metadata is compiled at run time
import { eventually } from '@ephemeral/eventually';
import { fakeFile } from '../fake-file';
import { FakePageEnvironment } from '../fake-page-environment';
import { storeFixture } from '../store-fixture';
import { parseLinkFragment } from '../transfer/auth/link-fragment';
import { DownloadStore } from '../receive/download-store';
import { FakeDirectory } from '../transfer/save/fake-directory';
import { ShareStore } from './share-store';

/** The sender/receiver halves of a share link. */
function parts(link: string): { peerId: string; secret: string } {
  const url = new URL(link);
  return { peerId: url.pathname.split('/').pop()!, secret: url.hash.slice(1) };
}

describe('ShareStore', () => {
  const storeIn = storeFixture();

  function sender(env = new FakePageEnvironment()) {
    const { store, injector } = storeIn(ShareStore, env);
    return { store, injector, env };
  }

  it('publishes the share link once the gateway welcomed the page', async () => {
    const { store, env } = sender();
    expect(store.link()).toBeNull();
    await eventually(() => store.link() !== null, { description: 'share link' });
    const { peerId, secret } = parts(store.link()!);
    expect(store.link()).toMatch(/^https:\/\/share\.test\/s\//);
    expect(peerId).toBe(env.signalingClients[0].peerId);
    // The secret, then the fingerprint of the certificate the sender answers with.
    expect(parseLinkFragment(secret)).toEqual({
      kind: 'valid',
      secret: expect.any(Uint8Array),
      fingerprint: env.certificate.fingerprint,
    });
    expect(store.lost()).toBe(false);
  });

  it('lists the added files and shows a receiver that downloads them', async () => {
    const { store, env } = sender();
    store.add([{ file: fakeFile('a.txt', new TextEncoder().encode('hello')), relativePath: '' }]);
    store.add([]);
    expect(store.files().map((f) => f.relativePath)).toEqual(['a.txt']);
    await eventually(() => store.link() !== null);

    const folder = new FakeDirectory();
    const receiverEnv = new FakePageEnvironment(env.gateway, {
      showDirectoryPicker: async () => folder as unknown as FileSystemDirectoryHandle,
    });
    const { store: receiver } = storeIn(DownloadStore, receiverEnv);
    const { peerId, secret } = parts(store.link()!);
    receiver.start(peerId, secret);
    await eventually(() => receiver.files().length === 1, { description: 'manifest' });
    await receiver.download(receiver.files());
    await eventually(() => receiver.progress().get(1)?.state === 'verified', {
      description: 'verified download',
    });
    await eventually(
      () => {
        const [status] = store.receivers();
        expect(status).toMatchObject({ state: 'idle', filesCompleted: 1, fileName: 'a.txt' });
      },
      { description: "the sender's view of its receiver" },
    );
  });

  it('ends the share for its receivers when the tab is closed', async () => {
    const { store, env } = sender();
    store.add([{ file: fakeFile('a.txt', new Uint8Array(3)), relativePath: '' }]);
    await eventually(() => store.link() !== null);
    const { store: receiver } = storeIn(DownloadStore, new FakePageEnvironment(env.gateway));
    const { peerId, secret } = parts(store.link()!);
    receiver.start(peerId, secret);
    await eventually(() => receiver.state() === 'ready');
    env.hidePage();
    await eventually(() => receiver.state() === 'sender-left', { description: 'sender-left' });
  });

  it('closes its gateway connection when the page is destroyed', async () => {
    const { store, env, injector } = sender();
    await eventually(() => store.link() !== null);
    injector.destroy();
    expect(env.signalingClients[0].state).toBe('closed');
  });

  it('lists the same file added twice once, and takes it again after it was removed', () => {
    const { store } = sender();
    const a = fakeFile('a.txt', new Uint8Array([1, 2, 3]));
    store.add([{ file: a, relativePath: 'a.txt' }]);
    store.add([
      { file: a, relativePath: 'a.txt' },
      { file: fakeFile('b.txt', new Uint8Array([4])), relativePath: 'b.txt' },
    ]);
    expect(store.files().map((f) => f.relativePath)).toEqual(['a.txt', 'b.txt']);
    // The same name in another folder is another file.
    store.add([{ file: a, relativePath: 'copy/a.txt' }]);
    expect(store.files()).toHaveLength(3);
    store.remove(store.files()[0].id);
    store.add([{ file: a, relativePath: 'a.txt' }]);
    expect(store.files().map((f) => f.relativePath)).toEqual(['b.txt', 'copy/a.txt', 'a.txt']);
  });
});
