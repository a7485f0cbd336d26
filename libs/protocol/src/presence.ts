// Server-side entry point: the presence gRPC service (it imports
// @grpc/grpc-js), the lease records and the bus topic names. The web app may
// not import this file (enforced by lint).
export {
  PresenceEventType,
  presenceEventTypeFromJSON,
  presenceEventTypeToJSON,
  LeftReason,
  leftReasonFromJSON,
  leftReasonToJSON,
  Lease,
  PresenceEvent,
} from './gen/ephemeral/presence/v1/lease';
export {
  RegisterMode,
  registerModeFromJSON,
  registerModeToJSON,
  KeepAliveStatus,
  keepAliveStatusFromJSON,
  keepAliveStatusToJSON,
  RegisterRequest,
  RegisterResponse,
  RegisterBatchRequest,
  RegisterBatchResponse,
  RegisterOutcome,
  RegisterRefusal,
  LeaseRef,
  KeepAliveRequest,
  KeepAliveResult,
  KeepAliveResponse,
  RevokeRequest,
  RevokeResponse,
  LookupRequest,
  LookupResponse,
  BatchLookupRequest,
  BatchLookupResponse,
  WatchRequest,
  WatchResponse,
  Principal,
  SubjectFilter,
  ListBySubjectRequest,
  ListBySubjectResponse,
  HeldPeer,
  PresenceServiceService,
  type PresenceServiceServer,
  PresenceServiceClient,
} from './gen/ephemeral/presence/v1/presence_service';
export * from './bus-topics';
export { DESCRIPTOR_SET_BASE64 } from './gen/descriptor-set';
