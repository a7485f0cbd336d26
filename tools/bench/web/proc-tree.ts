/**
 * What a Chromium costs, read from /proc: the browser process whose command
 * line names a profile directory plus all its descendants (renderers, GPU,
 * network and utility processes), their resident memory and CPU time, and
 * CPU time per thread for profiling.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

// USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on Linux).
const TICKS_PER_SECOND = 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process ended while we looked
  }
}

/** Fields of /proc/<pid>/stat after the command name (field 3 onwards). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** PIDs of the Chromium started with `--user-data-dir=<profile>` and its descendants. */
export function chromiumTree(profile: string): number[] {
  const parents = new Map<number, number>();
  let root = -1;
  const flag = `--user-data-dir=${profile}`;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const parent = Number(statFields(stat)[1]);
    parents.set(pid, parent);
    if (root < 0 && (read(`/proc/${pid}/cmdline`) ?? '').includes(flag)) {
      // The browser process: the one whose parent does not carry the flag.
      const parentCmd = existsSync(`/proc/${parent}/cmdline`)
        ? (read(`/proc/${parent}/cmdline`) ?? '')
        : '';
      if (!parentCmd.includes(flag)) root = pid;
    }
  }
  if (root < 0) return [];
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++)
      if (p === root) return true;
    return false;
  };
  return [...parents.keys()].filter(inTree);
}

/** Chromium's process type (`renderer`, `gpu-process`, …; `browser` for the root). */
export function processType(pid: number): string {
  const cmd = read(`/proc/${pid}/cmdline`) ?? '';
  const type = /--type=([\w-]+)/.exec(cmd)?.[1];
  if (!type) return 'browser';
  const utility = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1];
  return utility ? `utility:${utility.split('.').pop()}` : type;
}

/** Resident memory of the tree (`renderer`: only its renderer processes, i.e. the tab). */
export function treeRssBytes(profile: string, only: 'all' | 'renderer' = 'all'): number {
  let total = 0;
  for (const pid of chromiumTree(profile)) {
    if (only === 'renderer' && processType(pid) !== 'renderer') continue;
    const status = read(`/proc/${pid}/status`);
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status ?? '')?.[1] ?? 0) * 1024;
  }
  return total;
}

/** CPU seconds (user + system) so far of every process of the tree. */
export function treeCpuSeconds(profile: string): number {
  let ticks = 0;
  for (const pid of chromiumTree(profile)) {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const f = statFields(stat);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds so far per "process type / thread name" of the tree. */
export function threadCpuSeconds(profile: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of chromiumTree(profile)) {
    const type = processType(pid);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '#');
      const f = statFields(stat);
      const key = `${type}/${name}`;
      out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND);
    }
  }
  return out;
}

/** CPU (and per-thread CPU) of one tree between `start()` and `stop()`. */
export class CpuMeter {
  private total = 0;
  private threads = new Map<string, number>();

  constructor(private readonly profile: string) {}

  start(): void {
    this.total = treeCpuSeconds(this.profile);
    this.threads = threadCpuSeconds(this.profile);
  }

  /** CPU seconds since start(), and the `top` busiest threads' share. */
  stop(top = 6): { seconds: number; threads: Array<[string, number]> } {
    const seconds = treeCpuSeconds(this.profile) - this.total;
    const now = threadCpuSeconds(this.profile);
    const threads = [...now.entries()]
      .map(([key, s]): [string, number] => [key, s - (this.threads.get(key) ?? 0)])
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    return { seconds, threads };
  }
}
