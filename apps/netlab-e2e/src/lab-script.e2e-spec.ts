import { execFile, spawn } from 'node:child_process';

import { eventually } from '@ephemeral/testing';

import { NETLAB_SETUP_TIMEOUT_MS, NetLab } from './netlab';

/** Runs `command` inside a lab namespace through its wrapper; resolves with its exit code and output. */
function inLab(lab: NetLab, ns: 'wan' | 'lan-a' | 'lan-b', command: string) {
  return new Promise<{ code: number | null; output: string }>((resolveRun) =>
    execFile(lab.bin(`in-${ns}`), ['bash', '-c', command], { timeout: 20_000 }, (error, out, err) =>
      resolveRun({
        code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
        output: `${out}${err}`,
      }),
    ),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function labNamespaces(): Promise<string[]> {
  return new Promise((resolveList, reject) =>
    execFile('ip', ['netns', 'list'], (error, out) =>
      error
        ? reject(error)
        : resolveList(
            out
              .split('\n')
              .map((line) => line.split(' ')[0])
              .filter((name) => name.startsWith('netlab-')),
          ),
    ),
  );
}

describe('netlab.sh: the lab itself', () => {
  let lab: NetLab | undefined;
  afterAll(async () => {
    await lab?.down();
  }, 60_000);

  it(
    'isolates the LANs, counts what leaves for outside the lab, and `up` after a crashed run starts clean',
    async () => {
      lab = await NetLab.up();
      // No direct path from LAN A to LAN B: the wan has no route to the LANs.
      const direct = await inLab(lab, 'lan-a', 'exec 3<>/dev/tcp/198.19.2.2/443');
      expect(direct.code).not.toBe(0);
      expect(direct.output).toMatch(/unreachable/i);
      // LAN A reaches the wan's services through its NAT.
      expect((await inLab(lab, 'lan-a', `exec 3<>/dev/tcp/${lab.turnIp}/3478`)).code).toBe(0);

      // coturn's TLS listener, on 5349 and published on 443, verifies with the lab CA.
      for (const port of [5349, 443]) {
        const tls = await inLab(
          lab,
          'lan-a',
          `openssl s_client -connect ${lab.turnIp}:${port} -verify_ip ${lab.turnIp} ` +
            `-CAfile ${lab.caCertFile} -verify_return_error </dev/null`,
        );
        expect(tls.output).toContain('Verify return code: 0 (ok)');
      }

      // A packet for an address outside 198.18.0.0/15 is rejected and counted.
      expect(Object.values(await lab.guard())).toEqual([0, 0, 0, 0, 0]);
      const outside = await inLab(lab, 'lan-b', 'exec 3<>/dev/tcp/10.20.30.40/80');
      expect(outside.code).not.toBe(0);
      const guard = await lab.guard();
      expect(guard['netlab-lan-b']).toBeGreaterThan(0);
      expect(guard['netlab-lan-a']).toBe(0);

      // A crashed run: a process still inside the lab, the lab left up.
      const leftover = spawn(lab.bin('in-lan-a'), ['sleep', '600'], { stdio: 'ignore' });
      const pid = leftover.pid!;
      await eventually(() => alive(pid), { description: 'the leftover process runs' });
      lab = await NetLab.up();
      await eventually(() => !alive(pid) || leftover.exitCode !== null || leftover.signalCode, {
        timeoutMs: 10_000,
        description: "up ended the crashed run's process",
      });
      expect(Object.values(await lab.guard())).toEqual([0, 0, 0, 0, 0]);

      await lab.down();
      lab = undefined;
      expect(await labNamespaces()).toEqual([]);
    },
    NETLAB_SETUP_TIMEOUT_MS,
  );
});
