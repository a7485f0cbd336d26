import { numberedName, safeName, safePathSegments } from './safe-path';
import { UniqueNames } from './unique-names';

describe('safePathSegments', () => {
  it('keeps folder paths but never escapes the picked folder', () => {
    expect(safePathSegments('album/photos/a.jpg')).toEqual(['album', 'photos', 'a.jpg']);
    expect(safePathSegments('../../etc/passwd')).toEqual(['etc', 'passwd']);
    expect(safePathSegments('/abs//./x\\y')).toEqual(['abs', 'x', 'y']);
    expect(safePathSegments('a:b?.txt')).toEqual(['a_b_.txt']);
  });

  it('turns hidden files and folders into visible ones', () => {
    expect(safePathSegments('.git/hooks/pre-commit')).toEqual(['_git', 'hooks', 'pre-commit']);
    expect(safePathSegments('home/.bashrc')).toEqual(['home', '_bashrc']);
    expect(safePathSegments('...x')).toEqual(['___x']);
  });

  it('prefixes Windows device names, whatever their case or extension', () => {
    for (const name of ['CON', 'con.txt', 'Nul', 'aux.tar.gz', 'COM1', 'lpt9.log', 'COM¹'])
      expect(safeName(name)).toBe(`_${name}`);
    for (const name of ['console.txt', 'icon.png', 'com10', 'nullable'])
      expect(safeName(name)).toBe(name);
  });

  it('removes bidi overrides and zero-width characters, replaces control characters', () => {
    // Shown as "invoiceexe.pdf" by a bidi-aware file manager.
    expect(safeName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(safeName('a\u200Bb\u200D\uFEFFc\u2066.txt')).toBe('abc.txt');
    expect(safeName('tab\there\u0000\u001b\u009b.txt')).toBe('tab_here___.txt');
  });

  it('drops trailing dots and spaces, normalises to NFC, bounds the length', () => {
    expect(safeName('notes.txt. . ')).toBe('notes.txt');
    expect(safeName('cafe\u0301.txt')).toBe('caf\u00e9.txt');
    const long = safeName('é'.repeat(300) + '.jpeg');
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(200);
    expect(long.endsWith('.jpeg')).toBe(true);
    expect(safeName(' .. ')).toBe('');
  });

  it('numbers a name before its extension', () => {
    expect(numberedName('a.tar.gz', 2)).toBe('a.tar (2).gz');
    expect(numberedName('README', 3)).toBe('README (3)');
    expect(numberedName('.profile', 2)).toBe('.profile (2)');
  });
});

describe('UniqueNames', () => {
  it('numbers names that differ only in case, per folder', () => {
    const names = new UniqueNames();
    expect(names.claimSync('', 'A.txt')).toBe('A.txt');
    expect(names.claimSync('', 'a.TXT')).toBe('a (2).TXT');
    expect(names.claimSync('sub/', 'a.txt')).toBe('a.txt');
  });

  it('skips names that already exist on disk', async () => {
    const names = new UniqueNames();
    const onDisk = new Set(['x.bin', 'x (2).bin']);
    expect(await names.claim('', 'x.bin', async (n) => !onDisk.has(n))).toBe('x (3).bin');
  });
});
