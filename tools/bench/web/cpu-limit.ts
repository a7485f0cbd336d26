/**
 * Limits a Chromium's whole process tree to a fraction of one core, as on a
 * phone. In order of preference:
 *   - cgroup v2: a child group with `cpu.max` (quota/period);
 *   - cgroup v1: a child of the `cpu` hierarchy with `cpu.cfs_quota_us`
 *     (the same CFS bandwidth control under its older name);
 *   - else `taskset` (one core) plus Debian's `cpulimit` per process.
 * `kind` says which one ran, so the figures can say so.
 */
import { spawn, ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { chromiumTree } from './proc-tree';

const PERIOD_US = 100_000;

export class CpuLimit {
  private readonly limiters: ChildProcess[] = [];
  private readonly limited = new Set<number>();

  private constructor(
    readonly kind: 'cgroup-v2 cpu.max' | 'cgroup-v1 cpu.cfs_quota_us' | 'taskset+cpulimit',
    readonly fraction: number,
    private readonly group: string | null,
  ) {}

  /** A new limit of `fraction` of one core (0 < fraction <= 1), or an error saying why none works. */
  static create(name: string, fraction: number): CpuLimit {
    const quota = Math.round(PERIOD_US * fraction);
    const v2 = '/sys/fs/cgroup';
    const v2Controllers = existsSync(join(v2, 'cgroup.controllers'))
      ? readFileSync(join(v2, 'cgroup.controllers'), 'utf8')
      : '';
    try {
      if (/\bcpu\b/.test(v2Controllers)) {
        const group = join(v2, `bench-${name}-${process.pid}`);
        mkdirSync(group);
        writeFileSync(join(group, 'cpu.max'), `${quota} ${PERIOD_US}`);
        return new CpuLimit('cgroup-v2 cpu.max', fraction, group);
      }
      const v1 = '/sys/fs/cgroup/cpu';
      if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
        const group = join(v1, `bench-${name}-${process.pid}`);
        mkdirSync(group);
        writeFileSync(join(group, 'cpu.cfs_period_us'), String(PERIOD_US));
        writeFileSync(join(group, 'cpu.cfs_quota_us'), String(quota));
        return new CpuLimit('cgroup-v1 cpu.cfs_quota_us', fraction, group);
      }
    } catch {
      // not root, or a read-only cgroup file system: fall through
    }
    if (spawnSync('cpulimit', ['--help']).error)
      throw new Error('no writable cgroup and no cpulimit (apt-get install cpulimit)');
    return new CpuLimit('taskset+cpulimit', fraction, null);
  }

  /** Puts every process of the Chromium using `profile` (those started so far) under the limit. */
  apply(profile: string): void {
    for (const pid of chromiumTree(profile)) {
      if (this.limited.has(pid)) continue;
      this.limited.add(pid);
      try {
        if (this.group) {
          writeFileSync(join(this.group, 'cgroup.procs'), String(pid));
        } else {
          spawnSync('taskset', ['-a', '-p', '-c', '0', String(pid)]);
          const limiter = spawn(
            'cpulimit',
            ['-p', String(pid), '-l', String(Math.round(this.fraction * 100)), '-z'],
            { stdio: 'ignore' },
          );
          this.limiters.push(limiter);
        }
      } catch {
        // the process ended in between
      }
    }
  }

  /** Ends the limiters and removes the group (its processes must have exited). */
  dispose(): void {
    for (const limiter of this.limiters) limiter.kill();
    if (!this.group) return;
    // The group can only go once it is empty; the browsers were closed first.
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(this.group);
        return;
      } catch {
        spawnSync('sleep', ['0.1']);
      }
    }
  }
}
