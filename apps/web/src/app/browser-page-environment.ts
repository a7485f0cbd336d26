import { PageEnvironment } from './page-environment';
import { browserSignalingAuth } from './sign-in/browser-signaling-auth';
import { watchVerifiedPeers } from './sign-in/verified-peers';
import { publicOrigin } from './share/public-origin';
import { gatewayUrl, SignalingClient } from './signaling/signaling-client';
import { generateShareCertificate } from './transfer/auth/share-certificate';
import { inlineSha256 } from './transfer/hashing/incremental-hash';
import { workerSha256 } from './transfer/hashing/worker-sha256';
import { browserPeerConnection } from './transfer/rtc/peer-connection';
import { PickerWindow } from './transfer/receive/choose-save-target';
import { ServiceWorkerSaveTarget } from './transfer/save/service-worker-save-target';

/** The real browser behind the page stores. */
export function browserPageEnvironment(): PageEnvironment {
  return {
    origin: publicOrigin(document, location.origin),
    secureContext: window.isSecureContext,
    createSignaling: () => {
      const client = new SignalingClient(
        gatewayUrl(location),
        undefined,
        undefined,
        undefined,
        browserSignalingAuth(),
      );
      watchVerifiedPeers(client);
      return client;
    },
    createCertificate: generateShareCertificate,
    createPeerConnection: browserPeerConnection,
    senderHash: workerSha256,
    // The receiver hashes on its main thread (inline): it is idle most of a
    // transfer, and measured here a hash worker added ~50 MB to the tab's
    // memory (its own heap plus 1 MiB hand-over buffers) without a faster
    // transfer. The sender does use one.
    receiverHash: inlineSha256,
    pickers: window as unknown as PickerWindow,
    registerStreamTarget: () => ServiceWorkerSaveTarget.register(),
    onPageHide: (listener) => {
      addEventListener('pagehide', listener);
      return () => removeEventListener('pagehide', listener);
    },
  };
}
