import { formatBytes } from './byte-size-pipe';
import { formatDuration } from './duration-pipe';

describe('byte and time formats follow the locale', () => {
  it('writes the decimal separator of the language', () => {
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(1536, 'de')).toBe('1,5 KB');
    expect(formatBytes(1536, 'fr')).toBe('1,5 KB');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(-1)).toBe('–');
  });

  it('writes durations in the units of the language', () => {
    expect(formatDuration(42)).toBe('42 sec');
    expect(formatDuration(3 * 60 + 5)).toBe('3 min 5 sec');
    expect(formatDuration(3 * 60 + 5, 'de')).toBe('3 Min. 5 Sek.');
    expect(formatDuration(null)).toBe('–');
  });
});
