import { RedialSchedule } from './redial-schedule';

describe('RedialSchedule', () => {
  it('pauses longer before each attempt, then gives up', () => {
    const schedule = new RedialSchedule(3, 100);
    expect([schedule.next(), schedule.next(), schedule.next(), schedule.next()]).toEqual([
      100,
      200,
      300,
      null,
    ]);
  });

  it('starts afresh after a reset (a connection was established again)', () => {
    const schedule = new RedialSchedule(2, 100);
    schedule.next();
    schedule.next();
    schedule.reset();
    expect(schedule.next()).toBe(100);
  });
});
