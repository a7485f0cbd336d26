// How a server process (gateway, presence) runs: config from the environment,
// /metrics, signals and graceful shutdown, crash policy, retry backoff, TLS
// files for mTLS (checked at boot, reloaded when renewed), and
// the `err` convention for log lines.
export { Backoff } from './backoff';
export {
  ConfigError,
  configErrorMessage,
  configProblems,
  decimalInteger,
  withoutEmptyValues,
} from './environment-config';
export { errorMessage } from './error-message';
export { startMetricsServer } from './metrics-server';
export {
  EXIT_CONFIG_ERROR,
  EXIT_FAILURE,
  EXIT_OK,
  exitOnCrash,
  nodeProcessRuntime,
  type ProcessRuntime,
  runServer,
  type RunningServer,
  type ServerDefinition,
  type ShutdownDeadline,
} from './run-server';
export {
  checkTlsFiles,
  subjectCommonName,
  TlsFileWatcher,
  type TlsFiles,
  type TlsFilesCheck,
  type TlsFileVariables,
  type TlsFileWatcherOptions,
} from './tls-files';
