import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { workspaceRoot } from '@ephemeral/testing';

import { COTURN_SETUP_TIMEOUT_MS, CoturnLab } from './coturn-lab';

const K8S_COTURN = join(workspaceRoot, 'k8s/base/coturn');

/** The settings of a turnserver.conf: every line but comments and blanks. */
function settings(lines: string[]): string[] {
  return lines.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

/** Lines of `a` not in `b`, counting repeats. */
function minus(a: string[], b: string[]): string[] {
  const rest = [...b];
  return a.filter((line) => {
    const at = rest.indexOf(line);
    if (at === -1) return true;
    rest.splice(at, 1);
    return false;
  });
}

function value(lines: string[], key: string): number {
  const found = lines.filter((line) => line.startsWith(`${key}=`));
  expect(found).toHaveLength(1);
  return Number(found[0].slice(key.length + 1));
}

describe('the coturn config the suite runs is the one k8s/ ships', () => {
  const shipped = settings(readFileSync(join(K8S_COTURN, 'turnserver.conf'), 'utf8').split('\n'));
  const clusterRanges = readFileSync(join(K8S_COTURN, 'kustomization.yaml'), 'utf8')
    .match(/^\s*- DENIED_CLUSTER_RANGES=(.*)$/m)![1]
    .split(/[\s,]+/)
    .filter(Boolean);
  let lab: CoturnLab;

  beforeAll(async () => {
    lab = await CoturnLab.prepare();
    const installed = await lab.script('install');
    if (!installed.ok) throw new Error(`coturn.sh install failed:\n${installed.output}`);
    const rendered = await lab.script('render');
    if (!rendered.ok) throw new Error(`coturn.sh render failed:\n${rendered.output}`);
  }, COTURN_SETUP_TIMEOUT_MS);

  afterAll(() => lab?.removeDir());

  it('differs only in addresses, ports, paths, the secret and the one allowed test peer', () => {
    const run = settings(lab.configLines());
    // Replaced: where to listen and which files to use.
    expect(
      minus(shipped, run)
        .map((line) => line.split('=')[0])
        .sort(),
    ).toEqual(['cert', 'listening-port', 'pidfile', 'pkey', 'tls-listening-port', 'userdb']);
    // Added: by render-config.sh (as in the pod) and by the lab.
    expect(minus(run, shipped).sort()).toEqual(
      [
        // render-config.sh: the cluster ranges and the secret, as in the pod.
        ...clusterRanges.map((range) => `denied-peer-ip=${range}`),
        `static-auth-secret=${lab.secret}`,
        // The lab: loopback addresses, its ports and paths.
        `listening-port=${lab.port}`,
        `tls-listening-port=${lab.tlsPort}`,
        `cert=${lab.dir}/tls.crt`,
        `pkey=${lab.dir}/tls.key`,
        `pidfile=${lab.dir}/turnserver.pid`,
        `userdb=${lab.dir}/turndb`,
        'listening-ip=127.0.0.1',
        'relay-ip=127.0.0.1',
        'relay-ip=::1',
        // The test's own echo peer; every other loopback address stays denied.
        'allowed-peer-ip=127.0.0.1',
        'allow-loopback-peers',
      ].sort(),
    );
  });

  it('keeps the limits consistent: bandwidth and relay ports do not cap allocations below total-quota', () => {
    const total = value(shipped, 'total-quota');
    const perUser = value(shipped, 'user-quota');
    // coturn reserves max-bps per allocation out of bps-capacity: a smaller
    // capacity refuses allocations (486) long before total-quota.
    expect(value(shipped, 'bps-capacity')).toBeGreaterThanOrEqual(
      total * value(shipped, 'max-bps'),
    );
    expect(value(shipped, 'max-port') - value(shipped, 'min-port') + 1).toBeGreaterThanOrEqual(
      total,
    );
    expect(perUser).toBeGreaterThan(0);
    expect(perUser).toBeLessThan(total);
  });

  describe('a config coturn does not fully accept fails the lab (coturn itself would start without the setting)', () => {
    let copy: string;

    beforeEach(() => {
      copy = mkdtempSync(join(tmpdir(), 'coturn-template-'));
      cpSync(K8S_COTURN, copy, { recursive: true });
    });

    afterEach(() => rmSync(copy, { recursive: true, force: true }));

    async function startWith(
      edit: (conf: string) => string,
    ): Promise<{ ok: boolean; output: string }> {
      const file = join(copy, 'turnserver.conf');
      const edited = edit(readFileSync(file, 'utf8'));
      expect(edited).not.toBe(readFileSync(file, 'utf8'));
      writeFileSync(file, edited);
      const broken = await CoturnLab.prepare({ templateDir: copy });
      try {
        const started = await broken.script('start');
        // Nothing left running after the refusal.
        expect((await broken.script('status')).ok).toBe(false);
        return started;
      } finally {
        await broken.stop();
      }
    }

    it('a denied range in CIDR notation, which coturn 4.6 does not parse', async () => {
      const started = await startWith((conf) =>
        conf.replace('denied-peer-ip=10.0.0.0-10.255.255.255', 'denied-peer-ip=10.0.0.0/8'),
      );
      expect(started.ok).toBe(false);
      expect(started.output).toContain('coturn did not accept the shipped config');
      expect(started.output).toContain('Wrong address format: 10.0.0.0/8');
    });

    it('a misspelled option', async () => {
      const started = await startWith((conf) => conf.replace(/^no-tcp-relay$/m, 'no-tcp-relais'));
      expect(started.ok).toBe(false);
      expect(started.output).toContain('Bad configuration format: no-tcp-relais');
    });
  });
});
