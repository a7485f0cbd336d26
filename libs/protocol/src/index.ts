// The browser-safe public API of the protocol: every message that crosses the
// browser <-> gateway WebSocket and the gateway <-> gateway bus. Nothing here
// imports a server-only package; the presence gRPC service lives in
// `@ephemeral/protocol/presence`.
export {
  SignalKind,
  signalKindFromJSON,
  signalKindToJSON,
  SessionDescription,
  IceCandidate,
  Bye,
  Signal,
} from './gen/ephemeral/signaling/v1/signal';
export {
  LeaveReason,
  leaveReasonFromJSON,
  leaveReasonToJSON,
  ErrorCode,
  errorCodeFromJSON,
  errorCodeToJSON,
  ClientFrame,
  ServerFrame,
  Hello,
  Welcome,
  IceServer,
  Limits,
  PeerSignal,
  Ping,
  Pong,
  PeerLeft,
  Reconnect,
  Error,
  ShareIntent,
  Authenticate,
  Authenticated,
  ReportTransfer,
  TransferResult,
  transferResultFromJSON,
  transferResultToJSON,
} from './gen/ephemeral/signaling/v1/envelope';
export {
  Identity,
  ShareAccess,
  shareAccessFromJSON,
  shareAccessToJSON,
} from './gen/ephemeral/signaling/v1/identity';
export { SignalRecord } from './gen/ephemeral/signaling/v1/signal_record';
// Audit records (AUDIT_SINK=kafka): written by the gateway, read by a SIEM.
export {
  AuditRecord,
  Actor,
  ShareOpened,
  ReceiverJoined,
  TransferEnded,
  TransferOutcome,
  transferOutcomeFromJSON,
  transferOutcomeToJSON,
} from './gen/ephemeral/audit/v1/audit_record';
export * from './peer-id';
export * from './close-codes';
export * from './signal-kind';
// Browser <-> browser messages on the WebRTC control channel (never seen by
// the servers).
export {
  Role,
  roleFromJSON,
  roleToJSON,
  TransferErrorCode,
  transferErrorCodeFromJSON,
  transferErrorCodeToJSON,
  TransferFeature,
  ControlMessage,
  ControlBatch,
  ConnectionChallenge,
  SecretProof,
  FileEntry,
  Manifest,
  FileRequest,
  Progress,
  FileDone,
  Cancel,
  TransferError,
} from './gen/ephemeral/transfer/v1/transfer';
