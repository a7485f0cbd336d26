import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';

import type { Logger } from '@ephemeral/logging';

/**
 * The PEM certificate (chain) and private key the gateway serves HTTPS and
 * WSS with on PORT (TLS_CERT_FILE, TLS_KEY_FILE): for the embedded default
 * on a LAN, where a phone needs a secure context. In k8s the Ingress
 * terminates TLS instead.
 */
export interface PublicTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface PublicTlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

// Renewed certificates (certbot, mkcert, a cron job) are picked up within
// a minute, without a restart; a stat per file per minute costs nothing.
export const TLS_RELOAD_CHECK_MS = 60_000;

/** Reads both files; throws when either cannot be read. */
export function readPublicTls(files: PublicTlsFiles): PublicTlsPair {
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}

/**
 * What is wrong with the files, as `VARIABLE: problem` lines (empty when a
 * handshake could use them): unreadable, not PEM, expired, or a key that
 * is not the certificate's.
 */
export function publicTlsProblems(files: PublicTlsFiles, now = new Date()): string[] {
  const problems: string[] = [];
  let pair: PublicTlsPair;
  try {
    pair = readPublicTls(files);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return [
      `TLS_CERT_FILE/TLS_KEY_FILE: cannot read ${files.certFile} or ${files.keyFile} (${code})`,
    ];
  }
  try {
    const certificate = new X509Certificate(pair.cert);
    if (new Date(certificate.validTo) < now)
      problems.push(`TLS_CERT_FILE: the certificate expired on ${certificate.validTo}`);
  } catch {
    problems.push(`TLS_CERT_FILE: ${files.certFile} holds no PEM certificate`);
    return problems;
  }
  try {
    createSecureContext(pair);
  } catch (error) {
    problems.push(
      `TLS_KEY_FILE: ${files.keyFile} is not the private key of TLS_CERT_FILE's certificate (${(error as Error).message})`,
    );
  }
  return problems;
}

/**
 * Re-reads the files when either changed (mtime) and hands the new pair to
 * the running server; a pair that does not load is logged and the old one
 * kept. Returns the function that stops watching.
 */
export function reloadPublicTlsOnChange(
  server: Pick<HttpsServer, 'setSecureContext'>,
  files: PublicTlsFiles,
  logger: Logger,
  intervalMs = TLS_RELOAD_CHECK_MS,
): () => void {
  const stamp = (): string => {
    try {
      return [files.certFile, files.keyFile]
        .map((f) => statSync(f))
        .map((st) => `${st.mtimeMs}:${st.size}`)
        .join(',');
    } catch {
      return 'unreadable';
    }
  };
  let last = stamp();
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last) return;
    last = now;
    const problems = publicTlsProblems(files);
    if (problems.length > 0) {
      logger.warn({ problems }, 'TLS files changed but do not load; keeping the previous ones');
      return;
    }
    server.setSecureContext(readPublicTls(files));
    logger.info({ certFile: files.certFile }, 'TLS certificate reloaded');
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
