import { type Deadline, status } from '@grpc/grpc-js';

/** The part of a server call this module reads (so specs can pass a fake). */
export interface CallLiveness {
  readonly cancelled: boolean;
  getDeadline(): Deadline;
}

/**
 * Why a call is already over before we start work on it: the client
 * cancelled, or its deadline (wall-clock) has passed. Null when it is live.
 * Doing the work anyway would waste it, and for Register could grant a lease
 * nobody will ever keep alive.
 */
export function callAlreadyOver(
  call: CallLiveness,
  nowUnixMs: number = Date.now(),
): { code: status.CANCELLED | status.DEADLINE_EXCEEDED; details: string } | null {
  if (call.cancelled) return { code: status.CANCELLED, details: 'the call was cancelled' };
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (deadlineMs <= nowUnixMs)
    return { code: status.DEADLINE_EXCEEDED, details: 'the deadline had passed' };
  return null;
}
