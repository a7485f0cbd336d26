import { isPeerId } from '@ephemeral/protocol';
import { PageEnvironment } from './page-environment';
import { browserSignalingAuth } from './sign-in/browser-signaling-auth';
import { watchVerifiedPeers } from './sign-in/verified-peers';
import { publicOrigin } from './share/public-origin';
import { gatewayUrl, SignalingClient } from './signaling/signaling-client';
import { parseLinkFragment } from './transfer/auth/link-fragment';
import { generateShareCertificate } from './transfer/auth/share-certificate';
import { spawnSha256Worker } from './transfer/hashing/spawn-sha256-worker';
import { HashWorkerClient, sha256InWorker } from './transfer/hashing/worker-sha256';
import { browserPeerConnection } from './transfer/rtc/peer-connection';
import { PickerWindow } from './transfer/receive/choose-save-target';
import { ServiceWorkerSaveTarget } from './transfer/save/service-worker-save-target';

function newSignalingClient(): SignalingClient {
  const client = new SignalingClient(
    gatewayUrl(location),
    undefined,
    undefined,
    undefined,
    browserSignalingAuth(),
  );
  watchVerifiedPeers(client);
  return client;
}

/** The gateway socket main.ts opened before the app started; taken by the first createSignaling(). */
let preconnected: SignalingClient | null = null;

/**
 * On a receive page (`/s/<id>`), opens the gateway socket at once, before
 * the app is bootstrapped and the receive page's code is loaded: its
 * Hello/Welcome (a presence lease) then runs beside them instead of after
 * them (ADR 0030). The page's download session adopts it.
 */
export function preconnectSignaling(): void {
  const senderId = /^\/s\/([^/]+)$/.exec(location.pathname)?.[1] ?? '';
  // A link the page will refuse (DownloadStore.start) needs no peer ID.
  if (preconnected || !isPeerId(senderId) || parseLinkFragment(location.hash).kind !== 'valid')
    return;
  preconnected = newSignalingClient();
  // A failure is the session's to see: its own connect() tries again.
  preconnected.connect().catch(() => undefined);
}

/** The real browser behind the page stores. */
export function browserPageEnvironment(): PageEnvironment {
  const hashing = sha256InWorker(new HashWorkerClient(spawnSha256Worker));
  return {
    origin: publicOrigin(document, location.origin),
    secureContext: window.isSecureContext,
    createSignaling: () => {
      const client = preconnected ?? newSignalingClient();
      preconnected = null;
      return client;
    },
    createCertificate: generateShareCertificate,
    createPeerConnection: browserPeerConnection,
    // Both sides hash big files in the page's one SHA-256 worker (ADR 0030):
    // the receiver's main thread then only moves bytes from the data channel
    // to the disk, and the pieces move to the worker without a copy.
    senderHash: hashing,
    receiverHash: hashing,
    pickers: window as unknown as PickerWindow,
    registerStreamTarget: () => ServiceWorkerSaveTarget.register(),
    onPageHide: (listener) => {
      addEventListener('pagehide', listener);
      return () => removeEventListener('pagehide', listener);
    },
  };
}
