import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

import { eventually } from '@ephemeral/testing';

import { COTURN_SETUP_TIMEOUT_MS, CoturnLab, nowSeconds } from './coturn-lab';
import { TurnClient, type TurnAnswer } from './turn-client';
import { EchoPeer, uclient } from './uclient';

/** How far past a credential's expiry second the test waits before relying on
 * coturn's time(2) having reached it (a kernel tick is 1–10 ms). */
const COARSE_CLOCK_MARGIN_MS = 100;

// One address inside each IPv4 range turnserver.conf denies (and its edges),
// plus the cluster ranges of k8s/base/coturn/kustomization.yaml.
const DENIED_IPV4 = [
  '0.0.0.0',
  '0.255.255.255',
  '10.0.0.1',
  '10.255.255.255',
  '100.64.0.1',
  '100.127.255.255',
  '127.0.0.2', // loopback: only the lab's own peer, 127.0.0.1, is allowed
  '127.255.255.254',
  '169.254.169.254', // cloud metadata services
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.1',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.0.1',
  '192.168.255.255',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.1',
  '203.0.113.1',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '10.244.0.1', // pods (kubeadm/flannel default)
  '10.96.0.1', // the kubernetes Service (kubeadm default)
];
// Public neighbours of those ranges: the denials are exactly as wide as written.
const ALLOWED_IPV4 = [
  '1.1.1.1',
  '8.8.8.8',
  '11.0.0.1',
  '100.128.0.1',
  '172.32.0.1',
  '192.0.1.1',
  '192.169.0.1',
  '198.20.0.1',
  '223.255.255.254',
];
const DENIED_IPV6 = [
  '::1',
  '::',
  '::ffff:10.0.0.1', // IPv4-mapped: would reach every IPv4 range
  '::ffff:8.8.8.8',
  '64:ff9b::a00:1', // NAT64 of 10.0.0.1
  '64:ff9b:1::1',
  '100::1',
  '2001::1', // Teredo
  '2001:1ff:ffff::1',
  '2001:db8::1',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'febf::1',
  'ff02::1',
];
const ALLOWED_IPV6 = ['2001:4860:4860::8888', '2606:4700:4700::1111', '2001:200::1', 'fec0::1'];

async function permissionCodes(
  client: TurnClient,
  peers: string[],
): Promise<Record<string, number>> {
  const codes: Record<string, number> = {};
  for (const peer of peers) {
    const answer = await client.createPermission(peer);
    codes[peer] = answer.ok ? 200 : (answer.errorCode ?? -1);
  }
  return codes;
}

function everyone(peers: string[], code: number): Record<string, number> {
  return Object.fromEntries(peers.map((peer) => [peer, code]));
}

describe('coturn with the turnserver.conf k8s ships: not an open proxy', () => {
  let lab: CoturnLab;
  let peer: EchoPeer;
  const clients: TurnClient[] = [];
  const server = (): { address: string; port: number } => ({
    address: '127.0.0.1',
    port: lab.port,
  });

  async function udpClient(): Promise<TurnClient> {
    const client = await TurnClient.udp(server());
    clients.push(client);
    return client;
  }

  async function allocated(family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<TurnClient> {
    const client = await udpClient();
    const answer = await client.allocate(lab.credential(nowSeconds() + 600), family);
    expect(answer).toMatchObject({ ok: true, integrity: 'valid' });
    return client;
  }

  beforeAll(async () => {
    lab = await CoturnLab.start();
    peer = await EchoPeer.start('127.0.0.1');
  }, COTURN_SETUP_TIMEOUT_MS);

  afterEach(async () => {
    // Give the allocations back: the relay range holds 40 ports.
    await Promise.all(
      clients.splice(0).map(async (client) => {
        await client.refresh(0).catch(() => undefined);
        client.close();
      }),
    );
    peer.reset();
  });

  afterAll(async () => {
    await peer?.close();
    await lab?.stop();
  });

  describe('credentials', () => {
    it('allocates with a valid REST credential and relays to the allowed peer (positive control)', async () => {
      const client = await udpClient();
      const answer = await client.allocate(lab.credential(nowSeconds() + 600));
      // Signed by coturn with the key from the same secret.
      expect(answer).toMatchObject({ ok: true, integrity: 'valid' });
      const minPort = Number(lab.configValue('min-port'));
      const maxPort = Number(lab.configValue('max-port'));
      expect(answer.relayed?.address).toBe('127.0.0.1');
      expect(answer.relayed?.port).toBeGreaterThanOrEqual(minPort);
      expect(answer.relayed?.port).toBeLessThanOrEqual(maxPort);
      expect(await client.createPermission('127.0.0.1')).toMatchObject({ ok: true });

      // Data through the relay, with turnutils_uclient: 5 sent, 5 echoed back.
      const run = await uclient({
        serverPort: lab.port,
        credential: lab.credential(nowSeconds() + 600),
        peer,
      });
      expect(run.exitCode).toBe(0);
      expect(run.output).toContain('tot_send_msgs=5, tot_recv_msgs=5');
      expect(run.output).toContain('Total lost packets 0 (0.000000%)');
      expect(peer.received.length).toBeGreaterThanOrEqual(5);
      // The echo peer heard coturn's relay, not the client.
      for (const sender of peer.senders()) {
        const port = Number(sender.split(':')[1]);
        expect(port).toBeGreaterThanOrEqual(minPort);
        expect(port).toBeLessThanOrEqual(maxPort);
      }
    });

    it('refuses a forged credential (HMAC from another secret) with 401', async () => {
      const forged = lab.credential(nowSeconds() + 600, 'turn-e2e', 'not-the-turn-secret-at-all');
      const client = await udpClient();
      expect(await client.allocate(forged)).toMatchObject({ ok: false, errorCode: 401 });

      const run = await uclient({ serverPort: lab.port, credential: forged, peer });
      expect(run.exitCode).not.toBe(0);
      expect(run.output).toContain('Cannot complete Allocation');
      expect(peer.received).toHaveLength(0);
    });

    it('refuses a credential whose password was not minted for that username (401)', async () => {
      const minted = lab.credential(nowSeconds() + 600, 'peer-a');
      const stolen = { username: `${nowSeconds() + 86_400}:peer-a`, password: minted.password };
      const client = await udpClient();
      expect(await client.allocate(stolen)).toMatchObject({ ok: false, errorCode: 401 });
    });

    it('refuses an expired credential with 401', async () => {
      const expired = lab.credential(nowSeconds() - 60);
      const client = await udpClient();
      expect(await client.allocate(expired)).toMatchObject({ ok: false, errorCode: 401 });

      const run = await uclient({ serverPort: lab.port, credential: expired, peer });
      expect(run.exitCode).not.toBe(0);
      expect(run.output).toContain('Cannot complete Allocation');
      expect(peer.received).toHaveLength(0);
    });

    it('keeps an allocation made in time after the credential expires, but allocates no more with it', async () => {
      const expiresAt = nowSeconds() + 2;
      const credential = lab.credential(expiresAt);
      const client = await udpClient();
      expect(await client.allocate(credential)).toMatchObject({ ok: true });
      // Wait for the clock, not a fixed time: the expiry has passed. coturn
      // reads time(2), which Linux serves from its coarse clock, up to one
      // kernel tick (1–10 ms) behind Date.now(); at 4 ms past the second it
      // still read the expiry second and allocated (1 run in 6). So wait until
      // the expiry is a margin well beyond a tick in the past.
      await eventually(() => Date.now() >= (expiresAt + 1) * 1000 + COARSE_CLOCK_MARGIN_MS, {
        timeoutMs: 5_000,
        description: 'the credential expired',
      });
      expect(await client.refresh(600)).toMatchObject({ ok: true, integrity: 'valid' });
      const late = await udpClient();
      expect(await late.allocate(credential)).toMatchObject({ ok: false, errorCode: 401 });
    });
  });

  describe('peer addresses', () => {
    it('refuses a permission to every denied IPv4 range with 403, and allows public neighbours', async () => {
      const client = await allocated('ipv4');
      expect(await permissionCodes(client, DENIED_IPV4)).toEqual(everyone(DENIED_IPV4, 403));
      expect(await permissionCodes(client, ALLOWED_IPV4)).toEqual(everyone(ALLOWED_IPV4, 200));
    });

    it('refuses a permission to every denied IPv6 range with 403, and allows public neighbours', async () => {
      const client = await allocated('ipv6');
      expect(await permissionCodes(client, DENIED_IPV6)).toEqual(everyone(DENIED_IPV6, 403));
      expect(await permissionCodes(client, ALLOWED_IPV6)).toEqual(everyone(ALLOWED_IPV6, 200));
    });

    it('turnutils_uclient is refused with 403 for a private peer and relays nothing', async () => {
      for (const address of ['10.0.0.1', '192.168.1.1', '169.254.169.254', '127.0.0.2']) {
        const run = await uclient({
          serverPort: lab.port,
          credential: lab.credential(nowSeconds() + 600),
          peer: { address, port: peer.port },
        });
        expect({ address, exitCode: run.exitCode }).toEqual({ address, exitCode: 255 });
        expect(run.output).toContain('error 403 (Forbidden IP)');
      }
      expect(peer.received).toHaveLength(0);
    });
  });

  describe('limits', () => {
    it('stops one peer at user-quota concurrent allocations (486), whatever the credentials’ expiry', async () => {
      const quota = Number(lab.configValue('user-quota'));
      expect(quota).toBeGreaterThan(0);
      // coturn counts the id after "<expiry>:": a peer with a fresh
      // credential from every Welcome still shares one quota.
      const answers: TurnAnswer[] = [];
      for (let n = 0; n <= quota; n++) {
        const client = await udpClient();
        answers.push(await client.allocate(lab.credential(nowSeconds() + 600 + n, 'quota-peer')));
      }
      expect(answers.map((answer) => answer.errorCode ?? 200)).toEqual([
        ...Array<number>(quota).fill(200),
        486,
      ]);
      // Another peer is not affected.
      const other = await udpClient();
      expect(await other.allocate(lab.credential(nowSeconds() + 600, 'other-peer'))).toMatchObject({
        ok: true,
      });
    });

    it('refuses a TCP relay allocation (no-tcp-relay)', async () => {
      // -T asks for REQUESTED-TRANSPORT TCP (RFC 6062), client to client.
      const run = await uclient({
        serverPort: lab.port,
        credential: lab.credential(nowSeconds() + 600),
        peer,
        tcpRelay: true,
      });
      expect(run.exitCode).not.toBe(0);
      expect(run.output).toContain(
        'error 442 (TCP Transport is not allowed by the TURN Server configuration)',
      );
    });
  });

  describe('TLS', () => {
    it('serves TURN over TLS on tls-listening-port with the configured certificate', async () => {
      const cert = readFileSync(lab.certFile);
      const { client, socket } = await TurnClient.tls(
        { address: '127.0.0.1', port: lab.tlsPort },
        { ca: cert, servername: 'localhost' },
      );
      clients.push(client);
      expect(socket.authorized).toBe(true);
      expect(['TLSv1.2', 'TLSv1.3']).toContain(socket.getProtocol());
      expect(socket.getPeerCertificate().fingerprint256).toBe(
        new X509Certificate(cert).fingerprint256,
      );
      const answer = await client.allocate(lab.credential(nowSeconds() + 600));
      expect(answer).toMatchObject({ ok: true, integrity: 'valid' });
    });

    it('relays over TLS with turnutils_uclient -S', async () => {
      const run = await uclient({
        serverPort: lab.tlsPort,
        credential: lab.credential(nowSeconds() + 600),
        peer,
        tls: true,
      });
      expect(run.exitCode).toBe(0);
      expect(run.output).toMatch(
        /tls_connect: client session connected with cipher \S+, method=TLSv1\.[23]/,
      );
      expect(run.output).toContain('tot_send_msgs=5, tot_recv_msgs=5');
    });
  });

  describe('the secret', () => {
    it('is not on coturn’s command line nor in its environment; only in its 0600 config file', () => {
      const argv = readFileSync(`/proc/${lab.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      expect(argv).toEqual(['turnserver', '-c', lab.configFile]);
      expect(readFileSync(`/proc/${lab.pid}/cmdline`, 'utf8')).not.toContain(lab.secret);
      expect(readFileSync(`/proc/${lab.pid}/environ`, 'utf8')).not.toContain(lab.secret);
      expect(lab.configValue('static-auth-secret')).toBe(lab.secret);
      expect(statSync(lab.configFile).mode & 0o777).toBe(0o600);
      // Nor in what it logs.
      expect(lab.log()).not.toContain(lab.secret);
    });
  });
});
