import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { DESCRIPTOR_SET_BASE64 } from '@ephemeral/protocol/presence';

/**
 * Server reflection (grpcurl, grpcui, Postman) for the presence service and
 * the health service. The presence schema comes from the descriptor set
 * generated with the code, so reflection can never disagree with the stubs.
 */
export function createPresenceReflection(): ReflectionService {
  const presence = loadFileDescriptorSetFromBuffer(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'));
  const health = loadSync(healthProtoPath);
  return new ReflectionService({ ...presence, ...health });
}
