import '@angular/localize/init'; // $localize, as main.ts loads it
import '@angular/compiler'; // JIT: the stores' @Injectable metadata is compiled at run time
import { eventually } from '@ephemeral/eventually';
import { FakePageEnvironment } from '../fake-page-environment';
import { fakeFile } from '../fake-file';
import { storeFixture } from '../store-fixture';
import { DownloadStore } from '../receive/download-store';
import { ShareStore } from '../send/share-store';
import { fakePeerConnections } from '../transfer/rtc/fake-peer-connection';

/** A receiving page whose every peer connection relays over TURN/TCP with a 42 ms round trip. */
class RelayedEnvironment extends FakePageEnvironment {
  override readonly createPeerConnection = fakePeerConnections((pc) => {
    pc.path = { candidateType: 'relay', relayProtocol: 'tcp', rttSeconds: 0.042 };
  }).create;
}

/** A receiving page on a network that lets no peer connection through. */
class BlockedEnvironment extends FakePageEnvironment {
  override readonly createPeerConnection = fakePeerConnections((pc) => {
    pc.networkBlocked = true;
  }).create;
}

describe('the pages show how each connection runs, and why one could not be made', () => {
  const storeIn = storeFixture();

  async function share(env: FakePageEnvironment) {
    const sender = storeIn(ShareStore, env).store;
    sender.add([{ file: fakeFile('a.bin', new Uint8Array(1000)), relativePath: 'a.bin' }]);
    await eventually(() => sender.link() !== null, { description: 'share link' });
    const url = new URL(sender.link()!);
    return { sender, peerId: url.pathname.split('/').pop()!, fragment: url.hash };
  }

  it("shows the path on both pages: the receiver's relay over TCP, the sender's direct pair", async () => {
    const env = new FakePageEnvironment();
    const { sender, peerId, fragment } = await share(env);
    const receiver = storeIn(DownloadStore, new RelayedEnvironment(env.gateway)).store;
    expect(receiver.connectionPath()).toBeNull();
    receiver.start(peerId, fragment);
    await eventually(() => receiver.state() === 'ready', { description: 'ready' });
    const path = await eventually(() => receiver.connectionPath() ?? false, {
      description: "the receiver's path",
    });
    expect(path).toEqual({ kind: 'relay-tcp', rttMs: 42 });
    const paths = await eventually(() => (sender.paths().size === 1 ? sender.paths() : false), {
      description: "the sender's paths",
    });
    expect([...paths.values()]).toEqual([{ kind: 'direct', rttMs: 4 }]);
  });

  it('ends in a failure that says the network blocks peer connections, within the deadline', async () => {
    const env = new FakePageEnvironment();
    const { peerId, fragment } = await share(env);
    const receiver = storeIn(DownloadStore, new BlockedEnvironment(env.gateway)).store;
    receiver.start(peerId, fragment);
    await eventually(() => receiver.state() === 'connection-failed', {
      description: 'connection-failed',
      timeoutMs: 15_000,
    });
    expect(receiver.failureCause()).toBe('network-blocked');
  }, 20_000);
});
