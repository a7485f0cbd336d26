import { FileEntry } from '@ephemeral/protocol';
import { chooseSaveTarget } from '../receive/choose-save-target';
import { FakeDirectory as FakeDir } from './fake-directory';
import {
  DirectorySaveTarget,
  MEMORY_SAVE_LIMIT_BYTES,
  MemorySaveTarget,
  SMALL_FILE_BYTES,
  TooLargeForMemoryError,
} from './save-target';

function entry(relativePath: string, size = 3): FileEntry {
  const name = relativePath.split('/').pop() ?? relativePath;
  return { id: 1, name, relativePath, size, type: '', lastModifiedUnixMs: 0 };
}

describe('save targets', () => {
  it('writes into nested folders of the picked directory', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const sink = await target.open(entry('album/photos/a.jpg'));
    await sink.write(new Uint8Array([1, 2, 3]));
    await sink.close();
    expect(root.paths()).toEqual(['album/photos/a.jpg']);
    expect(root.dirs.get('album')?.dirs.get('photos')?.files.get('a.jpg')).toEqual([
      new Uint8Array([1, 2, 3]),
    ]);
  });

  it('writes under a .part name and gives the file its real name only on close', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const sink = await target.open(entry('a.txt', SMALL_FILE_BYTES + 1));
    await sink.write(new Uint8Array([1]));
    expect(root.paths()).toEqual([expect.stringMatching(/^a\.txt\.[0-9a-f]{8}\.part$/)]);
    await sink.close();
    expect(root.paths()).toEqual(['a.txt']);
  });

  it('writes a small file only on close (after verification): nothing on disk before, nothing after an abort', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const kept = await target.open(entry('src/a.txt', 3));
    const dropped = await target.open(entry('src/b.txt', 3));
    await kept.write(new Uint8Array([1, 2]));
    await kept.write(new Uint8Array([3]));
    await dropped.write(new Uint8Array([4, 5, 6]));
    expect(root.paths()).toEqual([]);
    await dropped.abort();
    await kept.close();
    expect(root.paths()).toEqual(['src/a.txt']);
    expect(root.dirs.get('src')?.files.get('a.txt')).toEqual([new Uint8Array([1, 2, 3])]);
    // One listing of the folder served both name checks.
    expect(root.dirs.get('src')?.listings).toBe(1);
  });

  it('checks the name again before the move: a file made since the folder was listed is kept', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const sink = await target.open(entry('late.txt', 1));
    root.files.set('late.txt', [new Uint8Array([9])]);
    await sink.write(new Uint8Array([1]));
    await sink.close();
    expect(root.files.get('late.txt')).toEqual([new Uint8Array([9])]);
    expect(root.paths()).toEqual(['late (2).txt', 'late.txt']);
  });

  it('leaves nothing behind when a download is aborted', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const sink = await target.open(entry('dir/new.bin'));
    await sink.write(new Uint8Array([1]));
    await sink.abort();
    expect(root.paths()).toEqual([]);
  });

  it('never overwrites: an existing name, or one taken in this download, gets a number', async () => {
    const root = new FakeDir();
    root.files.set('old.bin', [new Uint8Array([9])]);
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    for (const path of ['old.bin', 'Report.PDF', 'report.pdf', 'Docs/a.txt', 'docs/b.txt']) {
      const sink = await target.open(entry(path));
      await sink.write(new Uint8Array([1]));
      await sink.close();
    }
    expect(root.files.get('old.bin')).toEqual([new Uint8Array([9])]);
    expect(root.paths()).toEqual([
      'Docs/a.txt',
      'Docs/b.txt',
      'Report.PDF',
      'old (2).bin',
      'old.bin',
      'report (2).pdf',
    ]);
  });

  it('without move(), writes the real name but still deletes it on abort', async () => {
    const root = new FakeDir(false);
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const kept = await target.open(entry('kept.txt'));
    await kept.write(new Uint8Array([1]));
    await kept.close();
    const dropped = await target.open(entry('dropped.txt'));
    await dropped.write(new Uint8Array([1]));
    await dropped.abort();
    expect(root.paths()).toEqual(['kept.txt']);
  });

  it('hands a finished in-memory file to the browser download', async () => {
    const saved: Array<[string, number]> = [];
    const sink = await new MemorySaveTarget((name, blob) => saved.push([name, blob.size])).open(
      entry('x/a.txt'),
    );
    await sink.write(new Uint8Array(5));
    await sink.close();
    expect(saved).toEqual([['a.txt', 5]]);
  });

  it('picks a folder for several files, a file for one, memory without the API', async () => {
    const dir = new FakeDir() as unknown as FileSystemDirectoryHandle;
    const win = {
      showDirectoryPicker: jest.fn(async () => dir),
      showSaveFilePicker: jest.fn(async () => ({}) as FileSystemFileHandle),
    };
    expect((await chooseSaveTarget([entry('a'), entry('b')], win)).kind).toBe('directory');
    expect((await chooseSaveTarget([entry('a')], win)).kind).toBe('file');
    expect((await chooseSaveTarget([entry('dir/a')], win)).kind).toBe('directory');
    expect((await chooseSaveTarget([entry('a')], {})).kind).toBe('memory');
    await expect(
      chooseSaveTarget([entry('a', MEMORY_SAVE_LIMIT_BYTES + 1)], {}),
    ).rejects.toBeInstanceOf(TooLargeForMemoryError);
  });
});
