import { createLogger, type Logger } from '@ephemeral/logging';

import { ConfigError } from './environment-config';

/** What runServer needs from a started service. */
export interface RunningServer {
  /** Drains and closes everything; resolves once the process may exit. */
  shutdown(): Promise<void>;
}

/** How long a shutdown may take, and how the log line names that budget. */
export interface ShutdownDeadline {
  readonly ms: number;
  /** `DRAIN_TIMEOUT_MS`, `SHUTDOWN_GRACE_MS + 8000 ms`: what to raise if it is hit. */
  readonly description: string;
}

export interface ServerDefinition<Config> {
  /** `gateway`, `presence`: the boot logger's `service`, and `<service> stopped`. */
  readonly service: string;
  /** Reads and validates the environment; throws a ConfigError for a bad value. */
  loadConfig(): Config;
  /** The process's logger, once the config says its level and instance. */
  createLogger(config: Config): Logger;
  /** Starts every part of the service (bootstrapGateway, bootstrapPresence). */
  start(config: Config, logger: Logger): Promise<RunningServer>;
  shutdownDeadline(config: Config): ShutdownDeadline;
}

/** The parts of `process` runServer uses; specs pass a fake. */
export interface ProcessRuntime {
  onCrash(
    listener: (what: 'uncaught exception' | 'unhandled rejection', error: unknown) => void,
  ): void;
  onceSignal(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): void;
  exit(code: number): void;
  /** For lines written before the config is known (its errors included). */
  bootLogger(service: string): Logger;
}

export const EXIT_OK = 0;
/** Failed to start, crashed, or did not shut down cleanly in time. */
export const EXIT_FAILURE = 1;
/** A bad environment value: fix the config, restarting will not help. */
export const EXIT_CONFIG_ERROR = 2;

const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export const nodeProcessRuntime: ProcessRuntime = {
  onCrash(listener) {
    process.on('uncaughtException', (error) => listener('uncaught exception', error));
    process.on('unhandledRejection', (reason) => listener('unhandled rejection', reason));
  },
  onceSignal(signal, listener) {
    process.once(signal, listener);
  },
  exit(code) {
    // pino writes to stdout synchronously: every line is out before this.
    process.exit(code);
  },
  bootLogger: (service) => createLogger({ service, instance: 'boot' }),
};

/**
 * The one lifecycle of every server process (gateway, presence):
 *
 * - config: a ConfigError is logged (fatal, one line naming each bad
 *   variable) and the process exits 2; any other failure to start exits 1;
 * - crashes: see exitOnCrash;
 * - signals: the first SIGTERM or SIGINT starts `shutdown()`, exit 0 when it
 *   resolves and 1 when it rejects. The other signal does not start a second
 *   one (Ctrl-C under `npm start` delivers SIGINT from the terminal and
 *   SIGTERM from the script); a repeat of the same signal has Node's default
 *   effect, so a second Ctrl-C ends a stuck process at once;
 * - backstop: a shutdown still running after `shutdownDeadline` exits 1, so
 *   a hung closer can never outlive the orchestrator's patience, and is not
 *   mistaken for a clean stop.
 */
export async function runServer<Config>(
  definition: ServerDefinition<Config>,
  runtime: ProcessRuntime = nodeProcessRuntime,
): Promise<void> {
  const { service } = definition;
  let config: Config;
  let logger: Logger;
  try {
    config = definition.loadConfig();
    logger = definition.createLogger(config);
  } catch (error) {
    const boot = runtime.bootLogger(service);
    if (error instanceof ConfigError) {
      boot.fatal(error.message);
      runtime.exit(EXIT_CONFIG_ERROR);
    } else {
      boot.fatal({ err: error }, `${service} failed to start`);
      runtime.exit(EXIT_FAILURE);
    }
    return;
  }

  exitOnCrash(logger, runtime);

  let server: RunningServer;
  try {
    server = await definition.start(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, `${service} failed to start`);
    runtime.exit(EXIT_FAILURE);
    return;
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    const deadline = definition.shutdownDeadline(config);
    logger.info({ signal, deadlineMs: deadline.ms }, 'shutting down');
    // Not unref'd: a shutdown waiting on a promise that nothing will settle
    // would otherwise let the event loop empty and exit 0 without a word.
    const backstop = setTimeout(() => {
      logger.error(
        { deadlineMs: deadline.ms },
        `shutdown did not finish within ${deadline.description}`,
      );
      runtime.exit(EXIT_FAILURE);
    }, deadline.ms);
    server.shutdown().then(
      () => {
        clearTimeout(backstop);
        logger.info(`${service} stopped`);
        runtime.exit(EXIT_OK);
      },
      (error: unknown) => {
        clearTimeout(backstop);
        logger.error({ err: error }, 'shutdown failed');
        runtime.exit(EXIT_FAILURE);
      },
    );
  };
  for (const signal of SHUTDOWN_SIGNALS) runtime.onceSignal(signal, stop);
}

/**
 * An uncaught exception or an unhandled rejection is logged as fatal, with
 * the thrown value itself as `err` (pino keeps its stack), and the process
 * exits 1. Every handler catches the errors it expects; one that gets this
 * far escaped a path nobody planned for, and the state it left (a session
 * half registered, a renewal loop that stopped, a socket nobody will close)
 * can no longer be trusted. A process that runs on keeps passing its probes
 * while serving wrong answers; one that exits is restarted by its
 * supervisor, clients reconnect or retry, and leases outlive the restart
 * (their TTL). Node's own default for both is the same exit: this adds the
 * structured line. (ADR 0010)
 */
export function exitOnCrash(logger: Logger, runtime: ProcessRuntime = nodeProcessRuntime): void {
  runtime.onCrash((what, error) => {
    logger.fatal({ err: error }, what);
    runtime.exit(EXIT_FAILURE);
  });
}
