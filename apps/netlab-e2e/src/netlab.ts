import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { workspaceRoot } from '@ephemeral/testing';

const SCRIPT = join(workspaceRoot, 'tools/netlab/netlab.sh');
// apt-get on a cold machine, then namespaces, a CA and coturn (~3 s).
export const NETLAB_SETUP_TIMEOUT_MS = 240_000;

/** The routers' firewall towards the wan (tools/netlab/netlab.sh `mode`). */
export type LabMode = 'open' | 'block-udp' | 'tcp443-only';
export type LanSide = 'a' | 'b';

function run(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(
      'bash',
      [SCRIPT, ...args],
      { cwd: workspaceRoot, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`netlab.sh ${args.join(' ')} failed:\n${stdout}${stderr}`));
        else resolveRun(stdout);
      },
    );
  });
}

/**
 * The lab of tools/netlab/netlab.sh, one per machine: a wan with coturn, two
 * LANs behind symmetric NATs. `up()` rebuilds it from nothing; `down()`
 * removes every namespace and file.
 */
export class NetLab {
  private constructor(private readonly env: Record<string, string>) {}

  static async up(mode: LabMode = 'open'): Promise<NetLab> {
    await run(['install'], NETLAB_SETUP_TIMEOUT_MS);
    const flag = mode === 'open' ? [] : [`--${mode}`];
    const output = await run(['up', ...flag], NETLAB_SETUP_TIMEOUT_MS);
    const envFile = /^NETLAB_ENV=(.+)$/m.exec(output)?.[1];
    if (!envFile) throw new Error(`netlab.sh up printed no NETLAB_ENV:\n${output}`);
    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    return new NetLab(env);
  }

  private value(key: string): string {
    const value = this.env[key];
    if (!value) throw new Error(`lab.env has no ${key}`);
    return value;
  }

  /** coturn's address (UDP/TCP 3478, TLS 5349 and 443). */
  get turnIp(): string {
    return this.value('NETLAB_TURN_IP');
  }

  /** The gateway's address in the wan. */
  get appIp(): string {
    return this.value('NETLAB_APP_IP');
  }

  /** coturn's TURN REST secret (what the gateway's TURN_SECRET must be). */
  get turnSecret(): string {
    return readFileSync(this.value('NETLAB_SECRET_FILE'), 'utf8').trim();
  }

  get caCertFile(): string {
    return this.value('NETLAB_CA_CERT');
  }

  /** The lab CA's certificate for the TURN and app addresses, and its key. */
  get certFile(): string {
    return this.value('NETLAB_CERT');
  }

  get keyFile(): string {
    return this.value('NETLAB_KEY');
  }

  /** An executable of the lab's bin/: `in-wan`, `lan-a-chromium`, `lan-b-firefox-esr`, ... */
  bin(name: string): string {
    return join(this.value('NETLAB_BIN'), name);
  }

  /** Everything coturn logged so far. */
  coturnLog(): string {
    return readFileSync(this.value('NETLAB_COTURN_LOG'), 'utf8');
  }

  async mode(mode: LabMode): Promise<void> {
    await run(['mode', mode]);
  }

  /** Packets each namespace's guard rejected (addressed outside 198.18.0.0/15). */
  async guard(): Promise<Record<string, number>> {
    return JSON.parse(await run(['guard'])) as Record<string, number>;
  }

  /** What coturn sent from its relay ports (one allocation to another) so far. */
  async relayed(): Promise<{ packets: number; bytes: number }> {
    return JSON.parse(await run(['relayed'])) as { packets: number; bytes: number };
  }

  /** Packets each router's firewall mode dropped so far (all routers together). */
  async dropped(): Promise<number> {
    const counts = JSON.parse(await run(['dropped'])) as Record<string, number>;
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /** Pulls or plugs LAN `side`'s cable (the router's LAN port). */
  async link(side: LanSide, state: 'up' | 'down'): Promise<void> {
    await run(['link', side, state]);
  }

  async down(): Promise<void> {
    await run(['down']);
  }
}
