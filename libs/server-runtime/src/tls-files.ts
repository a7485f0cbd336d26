import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type PeerCertificate } from 'node:tls';

import { type ChannelCredentials, experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '@ephemeral/logging';

/**
 * PEM files for mutual TLS: this process's certificate (chain) and private
 * key, and the CA certificate(s) it checks its peers' certificates against.
 */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The environment variables the files were named by, for messages. */
export type TlsFileVariables = { readonly [K in keyof TlsFiles]: string };

export interface TlsFilesCheck {
  /** `VARIABLE: what is wrong`, one per problem; empty when the files are usable. */
  readonly problems: string[];
  /** The first certificate of certFile (this process's own), when it parsed. */
  readonly certificate: X509Certificate | null;
}

function readPem(
  path: string,
  variable: string,
  problems: string[],
): { path: string; pem: Buffer } | null {
  try {
    return { path, pem: readFileSync(path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(`${variable}: cannot read ${path}${code ? ` (${code})` : ''}`);
    return null;
  }
}

/**
 * Reads the files once, at boot, and checks what a handshake would need: a
 * certificate that has not expired, the private key that matches it, and CA
 * certificates TLS accepts. A problem here stops the process with a message
 * naming the variable instead of failing every connection later.
 */
export function checkTlsFiles(
  files: TlsFiles,
  variables: TlsFileVariables,
  now: Date = new Date(),
): TlsFilesCheck {
  const problems: string[] = [];
  const cert = readPem(files.certFile, variables.certFile, problems);
  const key = readPem(files.keyFile, variables.keyFile, problems);
  const ca = readPem(files.caFile, variables.caFile, problems);

  let certificate: X509Certificate | null = null;
  if (cert) {
    try {
      certificate = new X509Certificate(cert.pem);
    } catch {
      problems.push(`${variables.certFile}: ${cert.path} holds no PEM certificate`);
    }
  }
  if (certificate && new Date(certificate.validTo).getTime() <= now.getTime()) {
    problems.push(
      `${variables.certFile}: the certificate in ${files.certFile} expired on ${certificate.validTo}`,
    );
  }
  let privateKey: KeyObject | null = null;
  if (key) {
    try {
      privateKey = createPrivateKey(key.pem);
    } catch {
      problems.push(`${variables.keyFile}: ${key.path} holds no (unencrypted) PEM private key`);
    }
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(
      `${variables.keyFile}: the key in ${files.keyFile} does not match the certificate in ${variables.certFile}`,
    );
  }
  if (ca) {
    try {
      new X509Certificate(ca.pem);
      createSecureContext({ ca: ca.pem });
    } catch {
      problems.push(`${variables.caFile}: ${ca.path} holds no PEM CA certificate`);
    }
  }
  return { problems, certificate };
}

/**
 * The subject CN of a certificate, when it has exactly one: `subject` as
 * X509Certificate writes it (`CN=gateway-a`, one attribute a line) or as
 * TLSSocket.getPeerCertificate() returns it (`{ CN: 'gateway-a' }`, an array
 * when the attribute repeats). Null when there is none, or more than one.
 */
export function subjectCommonName(
  subject: string | PeerCertificate['subject'] | undefined,
): string | null {
  if (subject === undefined) return null;
  if (typeof subject === 'string') {
    const names = subject
      .split('\n')
      .filter((line) => line.startsWith('CN='))
      .map((line) => line.slice('CN='.length));
    return names.length === 1 && names[0] !== '' ? names[0] : null;
  }
  const cn: unknown = subject.CN;
  return typeof cn === 'string' && cn !== '' ? cn : null;
}

// Once a minute: a certificate renewed in place (cert-manager renews days
// before expiry) is in use for new connections within a minute, and an idle
// re-read costs three small file reads.
const DEFAULT_REFRESH_INTERVAL_MS = 60_000;

export interface TlsFileWatcherOptions {
  readonly logger: Logger;
  readonly refreshIntervalMs?: number;
}

/**
 * The TLS files as grpc-js credentials that follow renewals: grpc-js's
 * FileWatcherCertificateProvider re-reads them every refresh interval, and
 * each new connection uses what was read last (open connections keep the
 * certificate they started with). cert-manager rewrites a mounted Secret or
 * csi-driver volume in place when it renews, so nothing restarts.
 *
 * start() waits for the first read, so a server never listens (and a client
 * never dials) before its certificate is loaded; later changes are logged.
 */
export class TlsFileWatcher {
  private readonly provider: experimental.FileWatcherCertificateProvider;
  private fingerprint: string | null = null;
  private failing = false;
  private settleFirstRead: ((error?: Error) => void) | null = null;
  private identityRead = false;
  private caRead = false;

  constructor(
    readonly files: TlsFiles,
    private readonly options: TlsFileWatcherOptions,
  ) {
    this.provider = new experimental.FileWatcherCertificateProvider({
      certificateFile: files.certFile,
      privateKeyFile: files.keyFile,
      caCertificateFile: files.caFile,
      refreshIntervalMs: options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS,
    });
  }

  /** Starts watching; resolves once the files were read, rejects if they could not be. */
  start(): Promise<void> {
    return new Promise((resolveStart, rejectStart) => {
      this.settleFirstRead = (error) => (error ? rejectStart(error) : resolveStart());
      this.provider.addIdentityCertificateListener(this.onIdentity);
      this.provider.addCaCertificateListener(this.onCa);
    });
  }

  /** Stops this watcher's reads (credentials in use keep their own until closed). */
  stop(): void {
    this.provider.removeIdentityCertificateListener(this.onIdentity);
    this.provider.removeCaCertificateListener(this.onCa);
    this.settleFirstRead?.(new Error('stopped before the TLS files were read'));
    this.settleFirstRead = null;
  }

  /** Server side: present certFile, require a client certificate signed by caFile. */
  serverCredentials(): ServerCredentials {
    return experimental.createCertificateProviderServerCredentials(
      this.provider,
      this.provider,
      true,
    );
  }

  /** Client side: check the server against caFile, present certFile. */
  channelCredentials(): ChannelCredentials {
    return experimental.createCertificateProviderChannelCredentials(this.provider, this.provider);
  }

  private readonly onIdentity = (update: experimental.IdentityCertificateUpdate | null): void => {
    this.identityRead = true;
    if (!update) {
      this.reportFailure();
      return;
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(update.certificate);
    } catch {
      this.reportFailure();
      return;
    }
    this.failing = false;
    if (certificate.fingerprint256 !== this.fingerprint) {
      const fields = {
        subject: certificate.subject,
        validTo: certificate.validTo,
        certFile: this.files.certFile,
      };
      this.options.logger.info(
        fields,
        this.fingerprint === null ? 'TLS certificate loaded' : 'TLS certificate reloaded',
      );
      this.fingerprint = certificate.fingerprint256;
    }
    this.maybeReady();
  };

  private readonly onCa = (update: experimental.CaCertificateUpdate | null): void => {
    this.caRead = true;
    if (!update) {
      this.reportFailure();
      return;
    }
    this.maybeReady();
  };

  private maybeReady(): void {
    if (this.identityRead && this.caRead && !this.failing) {
      this.settleFirstRead?.();
      this.settleFirstRead = null;
    }
  }

  private reportFailure(): void {
    const error = new Error(
      `cannot read the TLS files ${this.files.certFile}, ${this.files.keyFile}, ${this.files.caFile}`,
    );
    if (this.settleFirstRead) {
      this.settleFirstRead(error);
      this.settleFirstRead = null;
    } else if (!this.failing) {
      // grpc-js refuses new connections until a read succeeds again.
      this.options.logger.error(
        { err: error },
        'TLS files unreadable: new connections fail until they can be read again',
      );
    }
    this.failing = true;
  }
}
