import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { workspaceRoot } from '@ephemeral/testing';

import { COTURN_SETUP_TIMEOUT_MS, CoturnLab, nowSeconds } from './coturn-lab';
import { TurnClient } from './turn-client';

const RENDER_CONFIG = join(workspaceRoot, 'k8s/base/coturn/render-config.sh');
const TEMPLATE = join(workspaceRoot, 'k8s/base/coturn/turnserver.conf');
// A documentation address (TEST-NET-3): what a load balancer's public
// address is to coturn, an address that is not its own.
const PUBLIC_ADDRESS = '203.0.113.7';

describe("coturn advertises the public address from the pod's configuration (TURN_EXTERNAL_IP)", () => {
  let lab: CoturnLab;
  const clients: TurnClient[] = [];

  beforeAll(async () => {
    // As in the pod: TURN_EXTERNAL_IP from the ConfigMap coturn-public-address,
    // POD_IP from the downward API (here the lab's relay address).
    lab = await CoturnLab.start({
      renderEnv: { TURN_EXTERNAL_IP: PUBLIC_ADDRESS, POD_IP: '127.0.0.1' },
    });
  }, COTURN_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(
      clients.splice(0).map(async (client) => {
        await client.refresh(0).catch(() => undefined);
        client.close();
      }),
    );
    await lab?.stop();
  });

  it('renders external-ip=<public>/<pod> once', () => {
    expect(lab.configLines().filter((line) => line.startsWith('external-ip='))).toEqual([
      `external-ip=${PUBLIC_ADDRESS}/127.0.0.1`,
    ]);
  });

  it('puts the public address, not the pod address, in the relayed address of an allocation', async () => {
    const client = await TurnClient.udp({ address: '127.0.0.1', port: lab.port });
    clients.push(client);
    const answer = await client.allocate(lab.credential(nowSeconds() + 600));
    expect(answer).toMatchObject({ ok: true, integrity: 'valid' });
    expect(answer.relayed?.address).toBe(PUBLIC_ADDRESS);
    expect(answer.relayed?.port).toBeGreaterThanOrEqual(Number(lab.configValue('min-port')));
    expect(answer.relayed?.port).toBeLessThanOrEqual(Number(lab.configValue('max-port')));
  });
});

describe('render-config.sh refuses a public address or exporter port that is not one', () => {
  let dir: string;
  let secretFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'render-config-'));
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, 'not-a-real-secret\n', { mode: 0o600 });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function render(env: Record<string, string>): {
    status: number | null;
    stderr: string;
    wrote: boolean;
    lines: string[];
  } {
    const output = join(dir, `out-${Math.random().toString(36).slice(2)}.conf`);
    const run = spawnSync('sh', [RENDER_CONFIG, TEMPLATE, output], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TURN_SECRET_FILE: secretFile, ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });
    const wrote = existsSync(output);
    const lines = wrote ? readFileSync(output, 'utf8').split('\n') : [];
    return { status: run.status, stderr: run.stderr, wrote, lines };
  }

  it.each([
    [
      'a CIDR',
      { TURN_EXTERNAL_IP: '203.0.113.0/24' },
      /TURN_EXTERNAL_IP: '203.0.113.0\/24' is not an IPv4 address/,
    ],
    [
      'a host name',
      { TURN_EXTERNAL_IP: 'turn.example.com' },
      /TURN_EXTERNAL_IP: 'turn.example.com' is not/,
    ],
    ['an octet over 255', { TURN_EXTERNAL_IP: '203.0.113.256' }, /is not an IPv4 address/],
    [
      'a bad pod address',
      { TURN_EXTERNAL_IP: PUBLIC_ADDRESS, POD_IP: 'fe80::1%eth0' },
      /POD_IP: 'fe80::1%eth0' is not/,
    ],
    [
      'a port that is no number',
      { TURN_PROMETHEUS_PORT: '96x1' },
      /TURN_PROMETHEUS_PORT: '96x1' is not a port number/,
    ],
  ])('refuses %s with a message and writes nothing', (_what, env, message) => {
    const result = render(env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.wrote).toBe(false);
  });

  it('writes external-ip and the exporter lines for good values (positive control)', () => {
    const result = render({
      TURN_EXTERNAL_IP: PUBLIC_ADDRESS,
      POD_IP: '10.244.1.5',
      TURN_PROMETHEUS_PORT: '9641',
    });
    expect(result).toMatchObject({ status: 0, wrote: true });
    expect(result.lines).toContain(`external-ip=${PUBLIC_ADDRESS}/10.244.1.5`);
    expect(result.lines).toContain('prometheus');
    expect(result.lines).toContain('prometheus-port=9641');
    // Without them (the tests' coturn, dev): neither line.
    const plain = render({});
    expect(plain.status).toBe(0);
    expect(plain.lines.some((line) => /^(external-ip|prometheus)/.test(line))).toBe(false);
  });
});
