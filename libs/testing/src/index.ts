// Test harness for integration and end-to-end suites: start the built apps as
// real child processes, wait for them to be ready, stop or kill them.
export { ServiceProcess, type ServiceProcessOptions } from './service-process';
export { TerminalCommand, type TerminalCommandOptions } from './terminal-command';
export { freePort } from './free-port';
export { workspaceRoot, builtAppEntry } from './workspace-paths';
export {
  candidateIndex,
  SignalingClient,
  signals,
  unknownPeerId,
  type CloseInfo,
  type ServerFrameKind,
  type ServerFrameValue,
} from './signaling-client';
export { GatewayStack, sleep, type StackOptions } from './gateway-stack';
// Wait on a condition, not a clock; the web app's specs import it from
// @ephemeral/eventually directly (this lib is server-only).
export { eventually, EventuallyTimeoutError, type EventuallyOptions } from '@ephemeral/eventually';
export { MetricsSnapshot, metricsPortOf, type MetricSample } from './metrics-snapshot';
export { DistributedStack, type DistributedStackOptions } from './distributed-stack';
export {
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_REDIS_URL,
  ensureKafka,
  ensureRedis,
  INFRASTRUCTURE_TIMEOUT_MS,
  kafkaAdminSasl,
  kafkaCredentialsDir,
  kafkaRunning,
  kafkaServiceEnv,
  kafkaServiceSasl,
  provisionKafka,
  redisRunning,
  resetKafka,
  stopKafka,
  stopRedis,
  type KafkaInstance,
  type KafkaServiceUser,
} from './local-infrastructure';
export { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
export { readZip, type ZipArchive, type ZipFileRecord } from './zip-reader';
export { makeTestPki, type TestCertificate, type TestPki } from './test-pki';
export { GATEWAY_AUDIENCE, oidcGatewayEnv, PORTAL_CLIENT_ID } from './oidc-gateway-env';
export { KEYCLOAK_START_MS, startKeycloak, type StartedKeycloak } from './keycloak';
