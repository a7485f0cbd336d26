import { InjectionToken } from '@angular/core';
import type { SignalingClient } from './signaling/signaling-client';
import type { ShareCertificate } from './transfer/auth/share-certificate';
import type { HashFactory } from './transfer/hashing/incremental-hash';
import type { PeerConnectionFactory } from './transfer/rtc/peer-connection';
import type { PickerWindow } from './transfer/receive/choose-save-target';
import type { DownloadSession } from './transfer/receive/download-session';
import type { ServiceWorkerSaveTarget } from './transfer/save/service-worker-save-target';

/**
 * What the page stores take from the browser: the gateway connection, peer
 * connections, hashing and the page's own address and lifetime. One token, so
 * store specs run the real engine over an in-memory gateway and fake peer
 * connections, without a browser.
 */
export interface PageEnvironment {
  /** The page's origin, for share links (`https://share.example.com`). */
  readonly origin: string;
  /**
   * Whether the browser treats the page as a secure context (https, or
   * loopback): without it there is no streaming to disk, no folder picker
   * and no clipboard, and the page says so.
   */
  readonly secureContext: boolean;
  createSignaling(): SignalingClient;
  /**
   * The download session this page started for `senderId` and `fragment`
   * before the app was bootstrapped (main.ts, ADR 0034), handed over once;
   * null when there is none for that link (the store then starts its own).
   */
  takeStartedDownload(senderId: string, fragment: string): DownloadSession | null;
  /** The sender's DTLS certificate for a new share. */
  createCertificate(): Promise<ShareCertificate>;
  readonly createPeerConnection: PeerConnectionFactory;
  /** Hashing for the sender's shared files (a worker in the browser). */
  readonly senderHash: HashFactory;
  /** Hashing for the receiver's downloads. */
  readonly receiverHash: HashFactory;
  /** The File System Access pickers, where the browser has them. */
  readonly pickers: PickerWindow;
  /** The streamed-download service worker, for browsers without the pickers. */
  registerStreamTarget(): Promise<ServiceWorkerSaveTarget | null>;
  /** Calls `listener` when the page is being unloaded; returns the function that stops it. */
  onPageHide(listener: () => void): () => void;
}

/** Provided by the app (browserPageEnvironment, app.config.ts) or a spec. */
export const PAGE_ENVIRONMENT = new InjectionToken<PageEnvironment>('PageEnvironment');
