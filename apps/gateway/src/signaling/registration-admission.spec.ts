import { RegistrationAdmission, type AdmissionRelease } from './registration-admission';

async function granted(
  entry: ReturnType<RegistrationAdmission['enter']>,
): Promise<AdmissionRelease> {
  if (typeof entry === 'string') throw new Error(`refused: ${entry}`);
  return entry;
}

describe('RegistrationAdmission', () => {
  it('lets maxInFlight Registers through at once, queues the next ones in order', async () => {
    const admission = new RegistrationAdmission({ maxInFlight: 2, maxQueued: 10 }, () => false);
    const first = await granted(admission.enter());
    const second = await granted(admission.enter());
    const order: string[] = [];
    const third = granted(admission.enter()).then((release) => (order.push('third'), release));
    const fourth = granted(admission.enter()).then((release) => (order.push('fourth'), release));
    expect(admission.active).toBe(2);
    expect(admission.waiting).toBe(2);

    first();
    first(); // a second call gives nothing back twice
    const thirdRelease = await third;
    expect(order).toEqual(['third']);
    expect(admission.active).toBe(2);
    expect(admission.waiting).toBe(1);

    second();
    (await fourth)();
    thirdRelease();
    expect(order).toEqual(['third', 'fourth']);
    expect(admission.active).toBe(0);
    expect(admission.waiting).toBe(0);
  });

  it('refuses at once when the queue is full', async () => {
    const admission = new RegistrationAdmission({ maxInFlight: 1, maxQueued: 1 }, () => false);
    await granted(admission.enter());
    expect(typeof admission.enter()).not.toBe('string');
    expect(admission.enter()).toBe('queue-full');
  });

  it('refuses while renewals are behind, and admits again once they caught up', async () => {
    let behind = true;
    const admission = new RegistrationAdmission({ maxInFlight: 4, maxQueued: 4 }, () => behind);
    expect(admission.enter()).toBe('renewals-behind');
    expect(admission.active).toBe(0);
    behind = false;
    (await granted(admission.enter()))();
    expect(admission.active).toBe(0);
  });
});
