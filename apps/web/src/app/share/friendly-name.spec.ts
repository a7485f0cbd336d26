import { friendlyName } from './friendly-name';

describe('friendlyName', () => {
  it('is the same for the same peer ID, two words', () => {
    expect(friendlyName('a1b2c3d4e5f60718')).toBe(friendlyName('a1b2c3d4e5f60718'));
    expect(friendlyName('a1b2c3d4e5f60718')).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });

  it('spreads IDs over many names', () => {
    const names = new Set<string>();
    for (let i = 0; i < 200; i++)
      names.add(friendlyName(`peer-${i.toString(16).padStart(8, '0')}`));
    expect(names.size).toBeGreaterThan(150);
  });
});
