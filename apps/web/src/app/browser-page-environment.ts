import { isPeerId } from '@ephemeral/protocol';
import { PageEnvironment } from './page-environment';
import { browserSignalingAuth } from './sign-in/browser-signaling-auth';
import { watchVerifiedPeers } from './sign-in/verified-peers';
import { publicOrigin } from './share/public-origin';
import { gatewayUrl, SignalingClient, SocketLike } from './signaling/signaling-client';
import { parseLinkFragment } from './transfer/auth/link-fragment';
import { generateShareCertificate } from './transfer/auth/share-certificate';
import { spawnSha256Worker } from './transfer/hashing/spawn-sha256-worker';
import type { HashFactory } from './transfer/hashing/incremental-hash';
import { HashWorkerClient, sha256InWorker } from './transfer/hashing/worker-sha256';
import { browserPeerConnection } from './transfer/rtc/peer-connection';
import { PickerWindow } from './transfer/receive/choose-save-target';
import type { DownloadSession } from './transfer/receive/download-session';
import { ServiceWorkerSaveTarget } from './transfer/save/service-worker-save-target';

declare global {
  interface Window {
    /** The gateway socket public/early-socket.js opened for a receive page (ADR 0034). */
    __esEarlySocket?: WebSocket;
  }
}

/** The early socket, once, if it goes to `url` and is not closing; else null (and it is closed). */
function takeEarlySocket(url: string): SocketLike | null {
  const socket = window.__esEarlySocket;
  delete window.__esEarlySocket;
  if (!socket) return null;
  if (socket.url === url && socket.readyState <= WebSocket.OPEN)
    return socket as unknown as SocketLike;
  socket.close();
  return null;
}

function newSignalingClient(adoptEarlySocket = false): SignalingClient {
  const client = new SignalingClient(
    gatewayUrl(location),
    adoptEarlySocket
      ? (url) => takeEarlySocket(url) ?? (new WebSocket(url) as unknown as SocketLike)
      : undefined,
    undefined,
    undefined,
    browserSignalingAuth(),
  );
  watchVerifiedPeers(client);
  return client;
}

/** The gateway socket main.ts opened before the app started; taken by the first createSignaling(). */
let preconnected: SignalingClient | null = null;

/** The link of this receive page (`/s/<peer ID>#<fragment>`), or null when the page will refuse it. */
function receiveLink(): { senderId: string; fragment: string } | null {
  const senderId = /^\/s\/([^/]+)$/.exec(location.pathname)?.[1] ?? '';
  // A link the page will refuse (DownloadStore.start) needs no connection.
  if (!isPeerId(senderId) || parseLinkFragment(location.hash).kind !== 'valid') return null;
  return { senderId, fragment: location.hash };
}

/**
 * On a receive page (`/s/<id>`), connects to the gateway at once, before
 * the app is bootstrapped and the receive page's code is loaded: its
 * Hello/Welcome (a presence lease) then runs beside them instead of after
 * them (ADR 0030). The socket is the one public/early-socket.js opened
 * while the bundles loaded, if it is still good (ADR 0034). The page's
 * download session adopts the client.
 */
export function preconnectSignaling(): void {
  if (preconnected) return;
  if (!receiveLink()) {
    // A link the page refuses: the early socket (if any) is not needed.
    window.__esEarlySocket?.close();
    delete window.__esEarlySocket;
    return;
  }
  preconnected = newSignalingClient(true);
  // A failure is the session's to see: its own connect() tries again.
  preconnected.connect().catch(() => undefined);
}

/** The session startDownloadEarly() started, until the receive page's store takes it. */
let started: { senderId: string; fragment: string; session: DownloadSession } | null = null;

/**
 * On a receive page, starts the download session itself before the app is
 * bootstrapped (ADR 0034): the gateway socket at once (preconnectSignaling),
 * then, once the session's code is in (a chunk shared with the receive
 * page, fetched beside the app's start), the session, which dials the
 * sender as soon as the Welcome comes instead of once the router has
 * rendered the receive page. Its DownloadStore takes it over
 * (takeStartedDownload); a store quicker than this chunk takes the socket
 * instead and dials itself, and this does nothing.
 */
export async function startDownloadEarly(): Promise<void> {
  preconnectSignaling();
  const link = receiveLink();
  if (!preconnected || !link) return;
  const { DownloadSession } = await import('./transfer/receive/download-session');
  const signaling = preconnected;
  const parsed = parseLinkFragment(link.fragment);
  if (!signaling || started || parsed.kind !== 'valid') return;
  preconnected = null;
  const session = new DownloadSession(
    signaling,
    link.senderId,
    parsed.secret,
    parsed.fingerprint,
    browserPeerConnection,
    pageHashing(),
  );
  started = { ...link, session };
  void session.start();
}

/** The page's one SHA-256 worker client, for both sides (ADR 0030); made on first use. */
let hashing: HashFactory | null = null;
function pageHashing(): HashFactory {
  return (hashing ??= sha256InWorker(new HashWorkerClient(spawnSha256Worker)));
}

/** The real browser behind the page stores. */
export function browserPageEnvironment(): PageEnvironment {
  const hash = pageHashing();
  return {
    origin: publicOrigin(document, location.origin),
    secureContext: window.isSecureContext,
    createSignaling: () => {
      const client = preconnected ?? newSignalingClient();
      preconnected = null;
      return client;
    },
    takeStartedDownload: (senderId, fragment) => {
      const taken = started;
      started = null;
      if (!taken) return null;
      if (taken.senderId === senderId && taken.fragment === fragment) return taken.session;
      // Started for another link than the page shows: nothing will show it.
      taken.session.close();
      return null;
    },
    createCertificate: generateShareCertificate,
    createPeerConnection: browserPeerConnection,
    // Both sides hash big files in the page's one SHA-256 worker (ADR 0030):
    // the receiver's main thread then only moves bytes from the data channel
    // to the disk, and the pieces move to the worker without a copy.
    senderHash: hash,
    receiverHash: hash,
    pickers: window as unknown as PickerWindow,
    registerStreamTarget: () => ServiceWorkerSaveTarget.register(),
    onPageHide: (listener) => {
      addEventListener('pagehide', listener);
      return () => removeEventListener('pagehide', listener);
    },
  };
}
