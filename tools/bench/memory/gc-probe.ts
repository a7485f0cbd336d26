import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Loaded into every server process a benchmark starts (NODE_OPTIONS
 * `--require`, so the gateway, presence and peerjs-server alike): on
 * SIGWINCH it reads its memory, runs a full collection, and reads it again
 * 1 s later (freed pages go back to the OS from a background thread), into
 * `gc-probe-<pid>-<n>.json` in GC_PROBE_DIR. `gc` comes from --expose-gc
 * set at run time, so the process's own flags stay as they are.
 *
 * Why: a V8 process's resident memory without a collection moves by tens of
 * MB with no client arriving (a young generation grown for a burst of
 * handshakes, shrunk again after a while idle), which at 4 000 idle clients
 * is ±10 KiB per client: signal-relay's idle readings swung from 5 to 19
 * KiB per gateway client and even went negative (ADR 0040). After a full
 * collection what remains is what the clients hold.
 */
const PROBE_SOURCE = `'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const dir = process.env.GC_PROBE_DIR;
let n = 0;
const reading = () => {
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
};
process.on('SIGWINCH', () => {
  const settled = reading();
  gc();
  setTimeout(() => {
    const file = path.join(dir, 'gc-probe-' + process.pid + '-' + n++ + '.json');
    fs.writeFileSync(file + '.tmp', JSON.stringify({ settled, collected: reading() }));
    fs.renameSync(file + '.tmp', file);
  }, 1000);
});
`;

/** process.memoryUsage() fields a probe reports. */
export interface MemoryReading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** One probe: as the process was, and after a full collection. */
export interface GcProbeReading {
  settled: MemoryReading;
  collected: MemoryReading;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GcProbe {
  private constructor(private readonly dir: string) {}

  /**
   * Writes the probe and adds it to NODE_OPTIONS for every process this one
   * starts from now on (ServiceProcess passes its environment on).
   */
  static install(dir: string): GcProbe {
    const absolute = resolve(dir);
    rmSync(absolute, { recursive: true, force: true });
    mkdirSync(absolute, { recursive: true });
    const script = join(absolute, 'gc-probe.js');
    writeFileSync(script, PROBE_SOURCE);
    process.env['GC_PROBE_DIR'] = absolute;
    process.env['NODE_OPTIONS'] = [process.env['NODE_OPTIONS'], `--require=${script}`]
      .filter(Boolean)
      .join(' ');
    return new GcProbe(absolute);
  }

  /**
   * Probes every process twice, `apartMs` apart, and keeps the lower of
   * each figure: what is live in both is what the process holds, not a
   * batch of work in flight at one probe (a gateway's lease renewals, say,
   * whose requests for every lease are alive while they wait: with single
   * probes, the last round of 4 000 gateway clients stood 3–6 MB above the
   * line in four runs of ten, ADR 0040).
   */
  async readAllSteady(
    pids: Record<string, number>,
    apartMs: number,
  ): Promise<Record<string, GcProbeReading>> {
    const first = await this.readAll(pids);
    await sleep(apartMs);
    const second = await this.readAll(pids);
    return Object.fromEntries(
      Object.keys(first).map((name) => [name, lowerOf(first[name], second[name])]),
    );
  }

  /** Probes every process at once (each collects its own garbage). */
  async readAll(pids: Record<string, number>): Promise<Record<string, GcProbeReading>> {
    const entries = await Promise.all(
      Object.entries(pids).map(async ([name, pid]) => [name, await this.read(pid)] as const),
    );
    return Object.fromEntries(entries);
  }

  /** Asks the probe in `pid` for a reading and waits for its file. */
  async read(pid: number): Promise<GcProbeReading> {
    const prefix = `gc-probe-${pid}-`;
    const before = new Set(readdirSync(this.dir));
    process.kill(pid, 'SIGWINCH');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await sleep(100);
      const file = readdirSync(this.dir).find(
        (name) => !before.has(name) && name.startsWith(prefix) && name.endsWith('.json'),
      );
      if (file) return JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as GcProbeReading;
    }
    throw new Error(`process ${pid} wrote no memory probe within 30 s (is the probe loaded?)`);
  }
}

function lowerOf(a: GcProbeReading, b: GcProbeReading): GcProbeReading {
  const min = (x: MemoryReading, y: MemoryReading): MemoryReading => ({
    rss: Math.min(x.rss, y.rss),
    heapUsed: Math.min(x.heapUsed, y.heapUsed),
    heapTotal: Math.min(x.heapTotal, y.heapTotal),
    external: Math.min(x.external, y.external),
    arrayBuffers: Math.min(x.arrayBuffers, y.arrayBuffers),
  });
  return { settled: min(a.settled, b.settled), collected: min(a.collected, b.collected) };
}
