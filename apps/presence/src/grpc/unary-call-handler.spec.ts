import { type ServerUnaryCall, type ServiceError, status } from '@grpc/grpc-js';
import { createLogger } from '@ephemeral/logging';
import {
  LeaseStoreError,
  LeaseStoreErrorReason,
  LeaseStoreUnavailableError,
} from '../lease/lease-store-error';
import { InvalidArgumentError } from './presence-request-validation';
import { unaryCallHandler } from './unary-call-handler';

const logger = createLogger({ service: 'presence-spec', instance: 'spec', level: 'silent' });

function fakeCall(request: string, deadline: Date | number = Infinity, cancelled = false) {
  return { request, cancelled, getDeadline: () => deadline } as unknown as ServerUnaryCall<
    string,
    string
  >;
}

function invoke(
  handle: (request: string) => Promise<string>,
  call = fakeCall('ping'),
): Promise<{ error: Partial<ServiceError> | null; value?: string | null }> {
  return new Promise((resolveCall) => {
    unaryCallHandler(
      'Test',
      logger,
      handle,
    )(call, (error, value) => resolveCall({ error: error as Partial<ServiceError> | null, value }));
  });
}

describe('unaryCallHandler', () => {
  it('answers with the handler result', async () => {
    expect(await invoke(async (r) => `${r}-pong`)).toEqual({ error: null, value: 'ping-pong' });
  });

  it.each([
    [
      new InvalidArgumentError('peer_id', 'is required'),
      status.INVALID_ARGUMENT,
      'peer_id: is required',
    ],
    [
      new LeaseStoreError(LeaseStoreErrorReason.ALREADY_EXISTS, 'p', 'taken'),
      status.ALREADY_EXISTS,
      'taken',
    ],
    [new LeaseStoreError(LeaseStoreErrorReason.NOT_FOUND, 'p', 'gone'), status.NOT_FOUND, 'gone'],
    [
      new LeaseStoreError(LeaseStoreErrorReason.RESUME_TOKEN_MISMATCH, 'p', 'no'),
      status.PERMISSION_DENIED,
      'no',
    ],
    [
      new LeaseStoreError(LeaseStoreErrorReason.FENCED, 'p', 'stale'),
      status.FAILED_PRECONDITION,
      'stale',
    ],
    [
      new LeaseStoreUnavailableError('connect ECONNREFUSED 127.0.0.1:16379'),
      status.UNAVAILABLE,
      'the lease store is unavailable; retry later',
    ],
    [new Error('db password is hunter2'), status.INTERNAL, 'internal error'],
  ])('maps %s to its status', async (error, code, details) => {
    const { error: answered } = await invoke(async () => {
      throw error;
    });
    expect(answered).toEqual({ code, details });
  });

  it('turns a synchronous throw into INTERNAL', async () => {
    const { error } = await invoke(() => {
      throw new TypeError('oops');
    });
    expect(error?.code).toBe(status.INTERNAL);
  });

  it('skips the work when the deadline has already passed', async () => {
    const handle = jest.fn(async () => 'never');
    const { error } = await invoke(handle, fakeCall('ping', new Date(Date.now() - 1_000)));
    expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(handle).not.toHaveBeenCalled();
  });

  it('skips the work for a cancelled call', async () => {
    const handle = jest.fn(async () => 'never');
    const { error } = await invoke(handle, fakeCall('ping', Infinity, true));
    expect(error?.code).toBe(status.CANCELLED);
    expect(handle).not.toHaveBeenCalled();
  });
});
