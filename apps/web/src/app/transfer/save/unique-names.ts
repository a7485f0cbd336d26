import { numberedName } from './safe-path';

// A folder with this many files of one name is not a real share.
const MAX_NUMBERED = 10_000;

/**
 * Names already used in one download, compared case-insensitively: Windows
 * and macOS folders (and zip tools extracting there) treat `A.txt` and
 * `a.txt` as the same file, so the second one gets a number instead of
 * replacing the first.
 */
export class UniqueNames {
  private readonly taken = new Set<string>();

  /**
   * The first of `name`, `name (2)`, `name (3)`… under `folder` that is
   * neither taken in this download nor refused by `free` (a name that
   * already exists on disk); it is taken from then on.
   */
  async claim(
    folder: string,
    name: string,
    free: (candidate: string) => Promise<boolean> = async () => true,
  ): Promise<string> {
    // Each candidate is taken before the await, so two files opened at
    // once cannot both pick it.
    for (const candidate of this.untaken(folder, name)) if (await free(candidate)) return candidate;
    throw new Error(`no free name for ${name} in ${folder || 'the folder'}`);
  }

  /** Synchronous form for archives, where nothing exists yet. */
  claimSync(folder: string, name: string): string {
    for (const candidate of this.untaken(folder, name)) return candidate;
    throw new Error(`no free name for ${name} in ${folder || 'the archive'}`);
  }

  /** Candidates not taken in this download, each taken as it is handed out. */
  private *untaken(folder: string, name: string): Generator<string> {
    for (let n = 1; n <= MAX_NUMBERED; n++) {
      const candidate = n === 1 ? name : numberedName(name, n);
      const key = `${folder}/${candidate}`.toLowerCase();
      if (this.taken.has(key)) continue;
      this.taken.add(key);
      yield candidate;
    }
  }
}
