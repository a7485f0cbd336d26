import { Writable } from 'node:stream';

import { Metadata, status } from '@grpc/grpc-js';
import pino from 'pino';

import { ClientFrame, ServerFrame } from '@ephemeral/protocol';

import { loadGatewayConfig } from '../config/gateway-config';
import { TurnCredentialMinter } from '../ice/turn-credential-minter';

import { censorSecrets, withGatewayRedaction, withoutFragment } from './gateway-log-redaction';

const TOKEN = 'R'.repeat(43);
const TURN_SECRET = 'turn-shared-secret-for-the-spec';
const SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n';
const SHARE_SECRET = 'k3y-in-the-fragment';

/** A logger like main.ts builds, writing its JSON lines to `lines`. */
function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const base = pino({ level: 'trace', base: { service: 'gateway' } }, sink);
  return { logger: withGatewayRedaction(base, { gatewayId: 'gw-spec' }), lines };
}

describe('gateway log redaction', () => {
  const config = loadGatewayConfig({
    GATEWAY_ID: 'gw-spec',
    TURN_SECRET,
    TURN_URLS: 'turn:turn.example.org:3478',
  });
  const offer = {
    payload: { $case: 'offer' as const, value: { sdp: SDP, fingerprintMac: new Uint8Array() } },
  };
  const hello = ClientFrame.fromPartial({
    seq: 1,
    kind: {
      $case: 'hello',
      value: { resumePeerId: 'b6f2c6a4-9a53-4d5e-8f0e-0c1b2a3d4e5f', resumeToken: TOKEN },
    },
  });
  const welcome = ServerFrame.fromPartial({
    kind: {
      $case: 'welcome',
      value: {
        peerId: 'b6f2c6a4-9a53-4d5e-8f0e-0c1b2a3d4e5f',
        resumeToken: TOKEN,
        iceServers: new TurnCredentialMinter([], config.turn).iceServersFor('p'),
      },
    },
  });
  const credential = welcome.kind?.$case === 'welcome' ? welcome.kind.value.iceServers[0] : null;

  it('keeps resume tokens, SDP bodies, TURN secrets and credentials, and URL fragments out', () => {
    const { logger, lines } = capture();
    logger.info({ resumeToken: TOKEN, sdp: SDP }, 'flat fields');
    logger.info({ frame: hello }, 'a hello frame');
    logger.info({ frame: welcome }, 'a welcome frame');
    logger.info({ signal: offer }, 'a signal');
    logger.info({ peerSignal: { to: 'x', from: 'y', signal: offer } }, 'a peer signal');
    logger.info(
      { frame: { seq: 2, kind: { $case: 'signal', value: { to: 'x', signal: offer } } } },
      'a signal frame',
    );
    logger.info({ config }, 'the whole config');
    logger.info({ env: { TURN_SECRET } }, 'the environment');
    logger.info({ url: `https://share.example.org/s/p#${SHARE_SECRET}` }, 'a share link');
    logger.child({ peerId: 'p' }).warn({ welcome: welcome.kind?.value }, 'via a session child');

    expect(lines).toHaveLength(10);
    const text = lines.join('\n');
    expect(credential?.credential).toBeTruthy();
    for (const secret of [TOKEN, SDP.slice(0, 20), 'IN IP4', TURN_SECRET, SHARE_SECRET]) {
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    expect(text).not.toContain(credential!.credential);
    expect(text).toContain('[redacted]');
    // What is useful stays: IDs, the share link without its fragment, bindings.
    expect(JSON.parse(lines[8])).toMatchObject({
      url: 'https://share.example.org/s/p#[redacted]',
      gatewayId: 'gw-spec',
    });
    expect(JSON.parse(lines[1]).frame.kind.value.resumePeerId).toBe(
      'b6f2c6a4-9a53-4d5e-8f0e-0c1b2a3d4e5f',
    );
  });

  it('logs a thrown gRPC error whole: type, message, code, stack and metadata', () => {
    const { logger, lines } = capture();
    const metadata = new Metadata();
    metadata.set('retry-after', '1');
    const error = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: status.UNAVAILABLE,
      details: 'No connection established',
      metadata,
    });
    logger.warn({ err: error }, 'presence watch broke');
    logger.warn({ err: 'a plain reason' }, 'not an Error');

    const [broke, plain] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(broke['err']).toEqual({
      type: 'Error',
      message: '14 UNAVAILABLE: No connection established',
      stack: expect.stringContaining('gateway-log-redaction.spec.ts'),
      code: status.UNAVAILABLE,
      details: 'No connection established',
      metadata: { 'retry-after': ['1'] },
    });
    expect(plain['err']).toBe('a plain reason');
  });

  it('copies only what holds a secret, and never changes what was logged', () => {
    const plain = { connId: 'c0ffee00', peerId: 'p', nested: { seq: 1, list: [{ kind: 'x' }] } };
    expect(censorSecrets(plain)).toBe(plain);
    const deep = { a: { b: [{ c: { sdp: SDP, keep: 1 } }] }, other: { seq: 2 } };
    const censored = censorSecrets(deep) as typeof deep;
    expect(censored.a.b[0].c).toEqual({ sdp: '[redacted]', keep: 1 });
    expect(censored.other).toBe(deep.other);
    expect(deep.a.b[0].c.sdp).toBe(SDP);
  });

  it('cuts the fragment off URL fields only', () => {
    expect(withoutFragment('https://h/s/p')).toBe('https://h/s/p');
    expect(withoutFragment('/s/p#x')).toBe('/s/p#[redacted]');
    expect(withoutFragment(7)).toBe(7);
  });
});
