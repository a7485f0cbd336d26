import { createHash } from 'node:crypto';
import '@angular/compiler'; // JIT: the stores' @Injectable metadata is compiled at run time
import { eventually } from '@ephemeral/eventually';
import { fakeFile } from '../fake-file';
import { FakePageEnvironment } from '../fake-page-environment';
import { storeFixture } from '../store-fixture';
import { ShareStore } from '../send/share-store';
import { FakeDirectory } from '../transfer/save/fake-directory';
import { DownloadStore } from './download-store';

const MiB = 1024 * 1024;

describe('DownloadStore', () => {
  const storeIn = storeFixture();

  /** A sender sharing `files`; resolves with its link's peer ID and secret. */
  async function share(env: FakePageEnvironment, files: File[]) {
    const sender = storeIn(ShareStore, env).store;
    sender.add(files.map((f) => ({ file: f, relativePath: `album/${f.name}` })));
    await eventually(() => sender.link() !== null, { description: 'share link' });
    const url = new URL(sender.link()!);
    return { peerId: url.pathname.split('/').pop()!, secret: url.hash.slice(1) };
  }

  it('says a link from before certificate pinning is outdated, without connecting', () => {
    const env = new FakePageEnvironment();
    const store = storeIn(DownloadStore, env).store;
    store.start('00000000-0000-4000-8000-000000000001', `#${'A'.repeat(24)}`);
    expect(store.state()).toBe('outdated-link');
    expect(env.signalingClients).toEqual([]);
  });

  it('says the link is invalid, without connecting, when its peer ID or secret is malformed', () => {
    for (const [peerId, secret] of [
      ['not-a-peer-id', `${'A'.repeat(24)}.${'A'.repeat(43)}`],
      ['00000000-0000-4000-8000-000000000001', 'short'],
      ['00000000-0000-4000-8000-000000000001', ''],
    ]) {
      const env = new FakePageEnvironment();
      const store = storeIn(DownloadStore, env).store;
      store.start(peerId, secret);
      expect(store.state()).toBe('invalid-link');
      expect(env.signalingClients).toEqual([]);
    }
  });

  it('downloads the selected files into the picked folder, verified, with overall progress', async () => {
    const env = new FakePageEnvironment();
    const a = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251);
    const link = await share(env, [fakeFile('a.bin', a), fakeFile('b.bin', new Uint8Array(10))]);
    const folder = new FakeDirectory();
    const store = storeIn(
      DownloadStore,
      new FakePageEnvironment(env.gateway, {
        showDirectoryPicker: async () => folder as unknown as FileSystemDirectoryHandle,
      }),
    ).store;
    store.start(link.peerId, link.secret);
    await eventually(() => store.state() === 'ready', { description: 'ready' });
    expect(store.files().map((f) => f.relativePath)).toEqual(['album/a.bin', 'album/b.bin']);

    store.toggle(1);
    store.toggle(2);
    store.toggle(2); // picked and unpicked again
    expect([...store.selected()]).toEqual([1]);
    await store.download(store.files().filter((f) => store.selected().has(f.id)));
    await eventually(() => store.progress().get(1)?.state === 'verified', {
      description: 'a.bin verified',
    });
    const written = folder.dirs.get('album')?.files.get('a.bin') ?? [];
    expect(Buffer.concat(written)).toEqual(Buffer.from(a));
    expect(store.progress().has(2)).toBe(false);
    // The digest it verified, as `sha256sum` prints it.
    expect(store.progress().get(1)?.sha256).toBe(createHash('sha256').update(a).digest('hex'));
    expect(store.overall()).toMatchObject({ size: a.length, bytes: a.length, count: 1 });
    expect(store.cancellable()).toBe(false);
    expect(store.saveError()).toBeNull();
  });

  it('says why a download cannot start when there is nowhere to save it', async () => {
    const env = new FakePageEnvironment();
    // Announced as 300 MiB; never read (the download is refused first).
    const link = await share(env, [fakeFile('big.iso', new Uint8Array(0), 300 * MiB)]);
    const store = storeIn(DownloadStore, new FakePageEnvironment(env.gateway)).store;
    store.start(link.peerId, link.secret);
    await eventually(() => store.state() === 'ready');
    await store.download(store.files());
    expect(store.saveError()).toMatch(/too large to hold in memory/);
    expect(store.progress().size).toBe(0);
  });

  it('ignores a picker the person closed', async () => {
    const env = new FakePageEnvironment();
    const link = await share(env, [
      fakeFile('a.bin', new Uint8Array(3)),
      fakeFile('b.bin', new Uint8Array(3)),
    ]);
    const store = storeIn(
      DownloadStore,
      new FakePageEnvironment(env.gateway, {
        showDirectoryPicker: async () => {
          throw new DOMException('closed', 'AbortError');
        },
      }),
    ).store;
    store.start(link.peerId, link.secret);
    await eventually(() => store.state() === 'ready');
    await store.download(store.files());
    expect(store.saveError()).toBeNull();
    expect(store.progress().size).toBe(0);
  });
});
