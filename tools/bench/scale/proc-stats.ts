/**
 * Resident memory and CPU time of processes, read from /proc: what each
 * component of the scale run costs, without agents inside the processes.
 */
import { readFileSync } from 'node:fs';

// USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on Linux).
const TICKS_PER_SECOND = 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process ended while we looked
  }
}

/** Resident bytes of `pid` (VmRSS), NaN when it is gone. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) * 1024 : NaN;
}

/** User + system CPU seconds `pid` has used so far, NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return NaN;
  // Fields after the command name (which may hold spaces): utime is field 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The first line of a pid file, if that process still runs. */
export function pidFromFile(path: string): number | undefined {
  const pid = Number((read(path) ?? '').trim());
  return Number.isInteger(pid) && pid > 0 && read(`/proc/${pid}/stat`) !== null ? pid : undefined;
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number((read('/proc/loadavg') ?? 'NaN').split(' ')[0]);
}

/**
 * CPU use per named group of processes between `start()` and `stop()`, as a
 * percentage of one core (200 % = both cores of a 2-core machine).
 */
export class CpuMeter {
  private startedAt = 0;
  private readonly before = new Map<string, number>();

  constructor(private readonly groups: () => Record<string, number[]>) {}

  start(): void {
    this.startedAt = performance.now();
    this.before.clear();
    for (const [name, pids] of Object.entries(this.groups()))
      this.before.set(name, sum(pids.map(cpuSeconds)));
  }

  stop(): Record<string, number> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const percent: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups())) {
      const used = sum(pids.map(cpuSeconds)) - (this.before.get(name) ?? NaN);
      percent[name] = Math.round((used / seconds) * 1000) / 10;
    }
    return percent;
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + (Number.isNaN(value) ? 0 : value), 0);
}
