import { FileEntry } from '@ephemeral/protocol';
import { chooseSaveTarget } from '../receive/choose-save-target';
import { FakeDirectory as FakeDir } from './fake-directory';
import { safePathSegments } from './safe-path';
import {
  DirectorySaveTarget,
  MEMORY_SAVE_LIMIT_BYTES,
  MemorySaveTarget,
  TooLargeForMemoryError,
} from './save-target';

function entry(relativePath: string, size = 3): FileEntry {
  const name = relativePath.split('/').pop() ?? relativePath;
  return { id: 1, name, relativePath, size, type: '', lastModifiedUnixMs: 0 };
}

describe('save targets', () => {
  it('keeps folder paths but never escapes the picked folder', () => {
    expect(safePathSegments('album/photos/a.jpg')).toEqual(['album', 'photos', 'a.jpg']);
    expect(safePathSegments('../../etc/passwd')).toEqual(['etc', 'passwd']);
    expect(safePathSegments('/abs//./x\\y')).toEqual(['abs', 'x', 'y']);
    expect(safePathSegments('a:b?.txt')).toEqual(['a_b_.txt']);
  });

  it('writes into nested folders of the picked directory', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const sink = await target.open(entry('album/photos/a.jpg'));
    await sink.write(new Uint8Array([1, 2, 3]));
    await sink.close();
    expect(root.dirs.get('album')?.dirs.get('photos')?.files.get('a.jpg')).toEqual([
      new Uint8Array([1, 2, 3]),
    ]);
  });

  it('removes a file it created when the download is aborted, keeps one that existed', async () => {
    const root = new FakeDir();
    const target = new DirectorySaveTarget(root as unknown as FileSystemDirectoryHandle);
    const created = await target.open(entry('dir/new.bin'));
    await created.write(new Uint8Array([1]));
    await created.abort();
    expect(root.dirs.get('dir')?.files.has('new.bin')).toBe(false);

    root.files.set('old.bin', [new Uint8Array([9])]);
    const existing = await target.open(entry('old.bin'));
    await existing.abort();
    expect(root.files.has('old.bin')).toBe(true);
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
