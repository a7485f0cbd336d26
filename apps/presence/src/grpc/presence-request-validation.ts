import { isPeerId } from '@ephemeral/protocol';
import {
  type BatchLookupRequest,
  type KeepAliveRequest,
  type ListBySubjectRequest,
  type LookupRequest,
  type Principal,
  type RegisterBatchRequest,
  RegisterMode,
  type RegisterRequest,
  type RevokeRequest,
  type WatchRequest,
} from '@ephemeral/protocol/presence';
import type { LeaseRefCommand, RegisterLeaseCommand } from '../lease/lease-store';

export const PresenceRequestLimits = {
  // 1000 per call: a gateway with 10k peers renews in 10 calls, and one call's
  // work (and response size, ~60 bytes per result) stays bounded.
  MAX_BATCH_SIZE: 1_000,
  // 128 characters fits a Kubernetes pod name (63) plus a suffix, with room.
  MAX_GATEWAY_ID_LENGTH: 128,
  /** A subject, issuer, display name or email domain (OIDC `sub` is at most 255 ASCII characters). */
  MAX_SUBJECT_LENGTH: 256,
  // SHA-256 output size.
  RESUME_TOKEN_SHA256_BYTES: 32,
} as const;

// Gateway IDs appear in logs, events and Redis keys: a plain
// charset keeps them safe in all three.
const GATEWAY_ID = /^[A-Za-z0-9._:-]+$/;

/** A request field failed validation; `field` uses the proto field name. */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';

  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export function parseRegisterRequest(request: RegisterRequest): RegisterLeaseCommand {
  const peerId = requirePeerId(request.peerId, 'peer_id');
  const gatewayId = requireGatewayId(request.gatewayId, 'gateway_id');
  let mode: RegisterLeaseCommand['mode'];
  if (request.mode === RegisterMode.REGISTER_MODE_NEW) mode = 'new';
  else if (request.mode === RegisterMode.REGISTER_MODE_RESUME) mode = 'resume';
  else throw new InvalidArgumentError('mode', 'must be REGISTER_MODE_NEW or REGISTER_MODE_RESUME');
  const hash = request.resumeTokenSha256;
  if (hash.length !== PresenceRequestLimits.RESUME_TOKEN_SHA256_BYTES) {
    throw new InvalidArgumentError(
      'resume_token_sha256',
      `must be ${PresenceRequestLimits.RESUME_TOKEN_SHA256_BYTES} bytes (a SHA-256 digest), got ${hash.length}`,
    );
  }
  return {
    peerId,
    gatewayId,
    mode,
    requestedTtlSeconds: request.ttlSeconds,
    resumeTokenSha256: hash,
    principal: parsePrincipal(request.principal),
  };
}

/**
 * Only the batch's size: each registration is validated when it is granted,
 * so a bad one is refused alone (INVALID_ARGUMENT in its outcome).
 */
export function parseRegisterBatchRequest(request: RegisterBatchRequest): RegisterRequest[] {
  requireBatchSize(request.registrations.length, 'registrations');
  return request.registrations;
}

export function parseKeepAliveRequest(request: KeepAliveRequest): {
  gatewayId: string;
  refs: LeaseRefCommand[];
} {
  const gatewayId = requireGatewayId(request.gatewayId, 'gateway_id');
  requireBatchSize(request.leases.length, 'leases');
  const refs = request.leases.map((ref, index) => ({
    peerId: requirePeerId(ref.peerId, `leases[${index}].peer_id`),
    fencingToken: requireFencingToken(ref.fencingToken, `leases[${index}].fencing_token`),
  }));
  return { gatewayId, refs };
}

export function parseRevokeRequest(request: RevokeRequest): LeaseRefCommand {
  return {
    peerId: requirePeerId(request.peerId, 'peer_id'),
    fencingToken: requireFencingToken(request.fencingToken, 'fencing_token'),
  };
}

export function parseLookupRequest(request: LookupRequest): string {
  return requirePeerId(request.peerId, 'peer_id');
}

export function parseBatchLookupRequest(request: BatchLookupRequest): string[] {
  requireBatchSize(request.peerIds.length, 'peer_ids');
  return request.peerIds.map((peerId, index) => requirePeerId(peerId, `peer_ids[${index}]`));
}

export function parseWatchRequest(request: WatchRequest): {
  peerIds: string[];
  subjects: string[];
} {
  requireBatchSize(request.peerIds.length, 'peer_ids');
  const subjects = request.subjects?.subjects ?? [];
  requireBatchSize(subjects.length, 'subjects.subjects');
  return {
    peerIds: request.peerIds.map((peerId, index) => requirePeerId(peerId, `peer_ids[${index}]`)),
    subjects: subjects.map((subject, index) =>
      requireSubject(subject, `subjects.subjects[${index}]`),
    ),
  };
}

export function parseListBySubjectRequest(request: ListBySubjectRequest): string {
  return requireSubject(request.subject, 'subject');
}

function requireSubject(value: string, field: string): string {
  if (value === '') throw new InvalidArgumentError(field, 'is required');
  if (value.length > PresenceRequestLimits.MAX_SUBJECT_LENGTH) {
    throw new InvalidArgumentError(
      field,
      `must be at most ${PresenceRequestLimits.MAX_SUBJECT_LENGTH} characters`,
    );
  }
  return value;
}

function parsePrincipal(principal: Principal | undefined): Principal | undefined {
  if (!principal) return undefined;
  requireSubject(principal.subject, 'principal.subject');
  for (const [field, value] of [
    ['principal.issuer', principal.issuer],
    ['principal.display_name', principal.displayName],
    ['principal.email_domain', principal.emailDomain],
  ] as const) {
    if (value.length > PresenceRequestLimits.MAX_SUBJECT_LENGTH) {
      throw new InvalidArgumentError(
        field,
        `must be at most ${PresenceRequestLimits.MAX_SUBJECT_LENGTH} characters`,
      );
    }
  }
  return principal;
}

function requirePeerId(value: string, field: string): string {
  if (value === '') throw new InvalidArgumentError(field, 'is required');
  if (!isPeerId(value)) throw new InvalidArgumentError(field, 'must be a lowercase UUID v4');
  return value;
}

function requireGatewayId(value: string, field: string): string {
  if (value === '') throw new InvalidArgumentError(field, 'is required');
  if (value.length > PresenceRequestLimits.MAX_GATEWAY_ID_LENGTH) {
    throw new InvalidArgumentError(
      field,
      `must be at most ${PresenceRequestLimits.MAX_GATEWAY_ID_LENGTH} characters`,
    );
  }
  if (!GATEWAY_ID.test(value))
    throw new InvalidArgumentError(field, 'may contain only letters, digits and . _ : -');
  return value;
}

function requireFencingToken(value: number, field: string): number {
  // Tokens start at 1; 0 is the proto default, i.e. "not set".
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError(field, 'must be a positive integer');
  return value;
}

function requireBatchSize(size: number, field: string): void {
  if (size > PresenceRequestLimits.MAX_BATCH_SIZE) {
    throw new InvalidArgumentError(
      field,
      `at most ${PresenceRequestLimits.MAX_BATCH_SIZE} entries per call, got ${size}`,
    );
  }
}
