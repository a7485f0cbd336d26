import { status } from '@grpc/grpc-js';
import { callAlreadyOver } from './call-deadline';

describe('callAlreadyOver', () => {
  const now = 1_000_000;

  it('is null for a live call without a deadline', () => {
    expect(callAlreadyOver({ cancelled: false, getDeadline: () => Infinity }, now)).toBeNull();
  });

  it('is null for a deadline in the future', () => {
    expect(
      callAlreadyOver({ cancelled: false, getDeadline: () => new Date(now + 1) }, now),
    ).toBeNull();
  });

  it('answers DEADLINE_EXCEEDED once the deadline has passed', () => {
    expect(callAlreadyOver({ cancelled: false, getDeadline: () => new Date(now) }, now)?.code).toBe(
      status.DEADLINE_EXCEEDED,
    );
    expect(callAlreadyOver({ cancelled: false, getDeadline: () => now - 5 }, now)?.code).toBe(
      status.DEADLINE_EXCEEDED,
    );
  });

  it('answers CANCELLED for a cancelled call', () => {
    expect(callAlreadyOver({ cancelled: true, getDeadline: () => Infinity }, now)?.code).toBe(
      status.CANCELLED,
    );
  });
});
