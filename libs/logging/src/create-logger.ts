import pino from 'pino';

import { serializeError } from './serialize-error';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Structured JSON logs on stdout, one object per line, for every server
 * process. `service` and `instance` are on every line so logs from several
 * replicas can be told apart. Secrets never reach a log line: resume tokens,
 * SDP bodies and URL fragments are redacted by path as well as by habit.
 */
export function createLogger(options: {
  service: string;
  instance: string;
  level?: LogLevel;
}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: options.service, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Log a thrown value as `err: error`: its stack is kept (serializeError).
    serializers: { err: serializeError },
    redact: {
      paths: ['resumeToken', '*.resumeToken', 'sdp', '*.sdp', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
