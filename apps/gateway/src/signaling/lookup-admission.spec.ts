import { LookupAdmission } from './lookup-admission';

describe('LookupAdmission', () => {
  it('admits up to its bound, refuses the next, and admits again once a slot is given back', () => {
    const admission = new LookupAdmission(2, () => false);
    const first = admission.enter();
    const second = admission.enter();
    expect(typeof first).toBe('function');
    expect(typeof second).toBe('function');
    expect(admission.enter()).toBe('too-many-lookups');
    (first as () => void)();
    expect(admission.active).toBe(1);
    expect(typeof admission.enter()).toBe('function');
  });

  it('counts a slot given back twice only once', () => {
    const admission = new LookupAdmission(1, () => false);
    const release = admission.enter() as () => void;
    release();
    release();
    expect(admission.active).toBe(0);
    expect(typeof admission.enter()).toBe('function');
    expect(admission.enter()).toBe('too-many-lookups');
  });

  it('refuses every Lookup while renewals are behind, and admits when they catch up', () => {
    let behind = true;
    const admission = new LookupAdmission(8, () => behind);
    expect(admission.enter()).toBe('renewals-behind');
    expect(admission.active).toBe(0);
    behind = false;
    expect(typeof admission.enter()).toBe('function');
  });

  it('rejects a bound that is not a positive integer', () => {
    expect(() => new LookupAdmission(0, () => false)).toThrow(RangeError);
    expect(() => new LookupAdmission(1.5, () => false)).toThrow(RangeError);
  });
});
