import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Keeps the benchmark's clients off the cores its servers run on (`--pin 1`).
 * Unpinned, on a 2-core machine, the clients, the gateway and presence take
 * turns on two cores, and a signal waits whenever the process it needs is
 * descheduled: that wait is in the relay tail of whichever target has more
 * processes (ADR 0038). Pinned, the benchmark (all its threads) runs on CPU 0
 * and every server process of the target on the others, so each target is
 * measured with the same cores of its own, as on a host with spare cores.
 *
 * Uses util-linux `taskset` (-a: every thread; threads started later inherit
 * the affinity of the thread that starts them).
 */
export class CpuPinning {
  private constructor(
    readonly clientCpus: string,
    readonly serverCpus: string,
  ) {}

  /** Pins this process; throws where it cannot (one core, no taskset). */
  static pinClient(): CpuPinning {
    const cores = availableParallelism();
    if (cores < 2) throw new Error('--pin needs at least 2 cores: the clients get one of them');
    const pinning = new CpuPinning('0', cores === 2 ? '1' : `1-${cores - 1}`);
    pinning.pin(process.pid, pinning.clientCpus);
    return pinning;
  }

  /** Pins a target's server processes (after it started them). */
  pinServers(pids: Record<string, number>): void {
    for (const pid of Object.values(pids)) this.pin(pid, this.serverCpus);
  }

  describe(): string {
    return `clients on CPU ${this.clientCpus}, servers on CPU ${this.serverCpus}`;
  }

  private pin(pid: number, cpus: string): void {
    const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], {
      encoding: 'utf8',
    });
    if (result.error || result.status !== 0) {
      throw new Error(
        `taskset -a -p -c ${cpus} ${pid} failed: ${result.error?.message ?? result.stderr.trim()}`,
      );
    }
  }
}
