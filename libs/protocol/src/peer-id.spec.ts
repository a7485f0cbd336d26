import { randomUUID } from 'node:crypto';

import { isPeerId } from './peer-id';

describe('isPeerId', () => {
  it('accepts a lowercase UUID v4', () => {
    expect(isPeerId(randomUUID())).toBe(true);
  });

  it.each([
    ['uppercase', randomUUID().toUpperCase()],
    ['UUID v1', 'f47ac10b-58cc-11e4-8c3a-0242ac120002'],
    ['wrong variant', 'f47ac10b-58cc-4372-c567-0e02b2c3d479'],
    ['empty', ''],
    ['too long', `${randomUUID()}x`],
    ['braces', `{${randomUUID()}}`],
  ])('refuses %s', (_name, value) => {
    expect(isPeerId(value)).toBe(false);
  });

  it('refuses non-strings', () => {
    expect(isPeerId(42)).toBe(false);
    expect(isPeerId(undefined)).toBe(false);
  });
});
