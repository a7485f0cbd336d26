import { readFileSync } from 'node:fs';

import { credentials, status } from '@grpc/grpc-js';
import type { Lease } from '@ephemeral/protocol/presence';
import {
  builtAppEntry,
  eventually,
  GatewayStack,
  makeTestPki,
  ServiceProcess,
  SignalingClient,
  type TestCertificate,
  type TestPki,
  unknownPeerId,
} from '@ephemeral/testing';

const GATEWAY_ID = 'gateway-mtls-e2e';
// Presence's test certificate names localhost; the gateway dials 127.0.0.1.
const SERVER_NAME = 'localhost';

describe('gateway → presence over mTLS (both real processes, certificates from tools/tls)', () => {
  let pki: TestPki;
  let stack: GatewayStack;

  const presenceTlsEnv = (identity: TestCertificate, caFile = pki.caFile) => ({
    PRESENCE_TLS_CERT_FILE: identity.certFile,
    PRESENCE_TLS_KEY_FILE: identity.keyFile,
    PRESENCE_TLS_CA_FILE: caFile,
  });

  beforeAll(async () => {
    pki = makeTestPki([GATEWAY_ID, 'observer']);
    const observer = pki.gateways['observer'];
    stack = await GatewayStack.start({
      presenceEnv: presenceTlsEnv(pki.presence),
      // No GATEWAY_ID: the gateway takes its certificate's CN.
      gatewayEnv: {
        ...presenceTlsEnv(pki.gateways[GATEWAY_ID]),
        PRESENCE_TLS_SERVER_NAME: SERVER_NAME,
      },
      presenceCredentials: () =>
        credentials.createSsl(
          readFileSync(pki.caFile),
          readFileSync(observer.keyFile),
          readFileSync(observer.certFile),
        ),
      presenceChannelOptions: { 'grpc.ssl_target_name_override': SERVER_NAME },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    pki?.remove();
  });

  const lookup = (peerId: string) => {
    const client = stack.presenceClient();
    return new Promise<Lease | undefined>((resolveLookup, reject) =>
      client.lookup({ peerId }, (error, response) =>
        error ? reject(error) : resolveLookup(response.lease),
      ),
    );
  };

  it('welcomes a client: the lease is granted over mTLS, in the name of the certificate', async () => {
    const client = await SignalingClient.connectAndHello(stack.wsUrl);
    try {
      const lease = await lookup(client.peerId);
      expect(lease).toMatchObject({ peerId: client.peerId, gatewayId: GATEWAY_ID });
      // The observer is not the holder: presence keeps the fencing token from it.
      expect(lease?.fencingToken).toBe(0);
      expect(
        stack.gateway.logRecords().find((r) => r['msg'] === 'TLS certificate loaded'),
      ).toMatchObject({ subject: `CN=${GATEWAY_ID}` });
    } finally {
      await client.terminate();
    }
  });

  it("revokes the lease when the client leaves: presence took the holder's Revoke", async () => {
    const client = await SignalingClient.connectAndHello(stack.wsUrl);
    const { peerId } = client;
    expect(await stack.isOnline(peerId)).toBe(true);
    await client.close();
    await eventually(async () => expect(await stack.isOnline(peerId)).toBe(false));
    expect(
      stack.presence
        .logRecords()
        .filter((r) => r['code'] === 'PERMISSION_DENIED' || r['level'] === 'error'),
    ).toEqual([]);
  });

  it('a gateway whose certificate presence does not trust is never ready', async () => {
    // The foreign certificate even claims the same gateway ID.
    const { gateway, port } = await GatewayStack.startGateway(stack.presencePort, {
      ...presenceTlsEnv(pki.foreignGateway),
      PRESENCE_TLS_SERVER_NAME: SERVER_NAME,
    });
    try {
      // Readiness asks presence's health on every request: the trusted
      // gateway is ready, this one is refused at the handshake.
      expect((await fetch(`${stack.httpUrl}/readyz`)).status).toBe(200);
      const refused = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(refused.status).toBe(503);
      expect(await refused.text()).toContain('presence is not reachable or not serving');
      // Presence itself is fine: it still answers a trusted caller.
      await expect(lookup(unknownPeerId())).rejects.toMatchObject({ code: status.NOT_FOUND });
    } finally {
      await gateway.stop();
    }
  });

  it('a GATEWAY_ID other than the certificate CN stops the gateway at boot (exit 2)', async () => {
    const failing = await ServiceProcess.start({
      name: 'gateway-wrong-id',
      entry: builtAppEntry('gateway'),
      env: {
        HOST: '127.0.0.1',
        PORT: '0',
        METRICS_PORT: '0',
        PRESENCE_URL: `127.0.0.1:${stack.presencePort}`,
        GATEWAY_ID: 'someone-else',
        ...presenceTlsEnv(pki.gateways[GATEWAY_ID]),
      },
      readyWhen: /GATEWAY_ID: must be gateway-mtls-e2e/,
    });
    await failing.closed;
    expect(failing.exitCode).toBe(2);
  });
});
