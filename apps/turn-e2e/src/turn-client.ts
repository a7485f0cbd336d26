import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/**
 * A minimal TURN client (RFC 8656, long-term credentials per RFC 8489) over
 * UDP or TLS, enough to ask coturn for an allocation, a permission or a
 * refresh and read back the exact answer — the error code that
 * turnutils_uclient does not print. It speaks to the server only: relayed
 * data is turnutils_uclient's job in the suite.
 */

const MAGIC_COOKIE = 0x2112a442;
const HEADER_BYTES = 20;
const INTEGRITY_BYTES = 24; // attribute header + HMAC-SHA1

const Method = { Allocate: 0x003, Refresh: 0x004, CreatePermission: 0x008 } as const;
type Method = (typeof Method)[keyof typeof Method];

const Attr = {
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  RequestedTransport: 0x0019,
} as const;

const UDP_PROTOCOL = 17;

export interface TransportAddress {
  address: string;
  port: number;
}

export interface TurnAnswer {
  /** A success response (class 0b10). */
  ok: boolean;
  /** ERROR-CODE of an error response (401, 403, 438, 441, 443, 486, ...). */
  errorCode?: number;
  reason?: string;
  /** XOR-RELAYED-ADDRESS of a successful Allocate. */
  relayed?: TransportAddress;
  /** Whether the answer carried a MESSAGE-INTEGRITY that verifies with our key. */
  integrity: 'valid' | 'invalid' | 'absent';
}

interface Decoded {
  type: number;
  transactionId: Buffer;
  attributes: Map<number, Buffer>;
  /** Byte offset of MESSAGE-INTEGRITY, for checking it. */
  integrityAt: number | null;
  raw: Buffer;
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

function header(type: number, length: number, transactionId: Buffer): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.writeUInt16BE(type, 0);
  buf.writeUInt16BE(length, 2);
  buf.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(buf, 8);
  return buf;
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  // SocketAddress normalises; expand "::" and a dotted IPv4 tail by hand.
  const [head, tail] = new SocketAddress({ address: ip, family: 'ipv6' }).address.split('::');
  const groups = (part: string | undefined): string[] =>
    part
      ? part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [group];
          const [a, b, c, d] = group.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        })
      : [];
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const buf = Buffer.alloc(16);
  all.forEach((group, index) => buf.writeUInt16BE(parseInt(group, 16), index * 2));
  return buf;
}

function xorKey(transactionId: Buffer): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(key, 4);
  return key;
}

function encodeXorAddress(ip: string, port: number, transactionId: Buffer): Buffer {
  const raw = ipBytes(ip);
  const value = Buffer.alloc(4 + raw.length);
  value[1] = raw.length === 4 ? 0x01 : 0x02;
  value.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
  const key = xorKey(transactionId);
  raw.forEach((byte, index) => (value[4 + index] = byte ^ key[index]));
  return value;
}

function decodeXorAddress(value: Buffer, transactionId: Buffer): TransportAddress {
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  const key = xorKey(transactionId);
  const raw = value.subarray(4).map((byte, index) => byte ^ key[index]);
  if (value[1] === 0x01) return { address: Array.from(raw).join('.'), port };
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((raw[i] << 8) | raw[i + 1]).toString(16));
  return {
    address: new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address,
    port,
  };
}

function decode(raw: Buffer): Decoded {
  const length = raw.readUInt16BE(2);
  const attributes = new Map<number, Buffer>();
  let integrityAt: number | null = null;
  for (let offset = HEADER_BYTES; offset + 4 <= HEADER_BYTES + length;) {
    const type = raw.readUInt16BE(offset);
    const size = raw.readUInt16BE(offset + 2);
    if (type === Attr.MessageIntegrity) integrityAt = offset;
    if (!attributes.has(type)) attributes.set(type, raw.subarray(offset + 4, offset + 4 + size));
    offset += 4 + size + ((4 - (size % 4)) % 4);
  }
  return {
    type: raw.readUInt16BE(0),
    transactionId: raw.subarray(8, 20),
    attributes,
    integrityAt,
    raw,
  };
}

/** HMAC-SHA1 over the message up to MESSAGE-INTEGRITY, its length covering that attribute. */
function integrityOf(message: Buffer, upTo: number, key: Buffer): Buffer {
  const covered = Buffer.from(message.subarray(0, upTo));
  covered.writeUInt16BE(upTo - HEADER_BYTES + INTEGRITY_BYTES, 2);
  return createHmac('sha1', key).update(covered).digest();
}

/** One STUN request; with `key`, signed with MESSAGE-INTEGRITY. */
function encodeRequest(
  method: Method,
  transactionId: Buffer,
  attrs: Buffer[],
  key: Buffer | null,
): Buffer {
  const body = Buffer.concat(attrs);
  if (!key) return Buffer.concat([header(method, body.length, transactionId), body]);
  const unsigned = Buffer.concat([header(method, body.length, transactionId), body]);
  const mac = integrityOf(unsigned, unsigned.length, key);
  const signed = Buffer.concat([body, attribute(Attr.MessageIntegrity, mac)]);
  return Buffer.concat([header(method, signed.length, transactionId), signed]);
}

interface Wire {
  send(message: Buffer): void;
  /** UDP loses datagrams: resend until answered. A stream does not. */
  readonly retransmits: boolean;
  onMessage(listener: (message: Buffer) => void): void;
  close(): void;
}

function udpWire(socket: UdpSocket, server: TransportAddress): Wire {
  return {
    send: (message) => socket.send(message, server.port, server.address),
    retransmits: true,
    onMessage: (listener) => socket.on('message', listener),
    close: () => socket.close(),
  };
}

function streamWire(socket: TLSSocket): Wire {
  return {
    send: (message) => socket.write(message),
    retransmits: false,
    onMessage: (listener) => {
      // STUN over a stream: messages back to back, each 20 + length bytes.
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= HEADER_BYTES) {
          const size = HEADER_BYTES + pending.readUInt16BE(2);
          if (pending.length < size) break;
          listener(pending.subarray(0, size));
          pending = pending.subarray(size);
        }
      });
    },
    close: () => socket.destroy(),
  };
}

const RETRANSMIT_MS = 250;
const ANSWER_TIMEOUT_MS = 5_000;

export interface Credential {
  username: string;
  password: string;
}

export class TurnClient {
  private readonly waiting = new Map<string, (decoded: Decoded) => void>();
  private realm = '';
  private nonce = '';
  private key: Buffer | null = null;
  private credential: Credential | null = null;

  private constructor(private readonly wire: Wire) {
    wire.onMessage((message) => {
      if (message.length < HEADER_BYTES || message.readUInt32BE(4) !== MAGIC_COOKIE) return;
      const decoded = decode(message);
      const id = decoded.transactionId.toString('hex');
      const resolve = this.waiting.get(id);
      this.waiting.delete(id);
      resolve?.(decoded);
    });
  }

  /** A client on its own UDP socket on 127.0.0.1. */
  static async udp(server: TransportAddress): Promise<TurnClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolveBind, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolveBind());
    });
    return new TurnClient(udpWire(socket, server));
  }

  /** A client over TLS; resolves with the socket to inspect the handshake. */
  static async tls(
    server: TransportAddress,
    options: ConnectionOptions,
  ): Promise<{ client: TurnClient; socket: TLSSocket }> {
    const socket = tlsConnect({ host: server.address, port: server.port, ...options });
    await new Promise<void>((resolveConnect, reject) => {
      socket.once('secureConnect', () => resolveConnect());
      socket.once('error', reject);
    });
    return { client: new TurnClient(streamWire(socket)), socket };
  }

  /**
   * Allocate with long-term credentials: the first, unsigned request earns
   * the 401 with REALM and NONCE; the signed one gets the answer that counts.
   */
  async allocate(credential: Credential, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<TurnAnswer> {
    const attrs = [attribute(Attr.RequestedTransport, Buffer.from([UDP_PROTOCOL, 0, 0, 0]))];
    if (family === 'ipv6')
      attrs.push(attribute(Attr.RequestedAddressFamily, Buffer.from([2, 0, 0, 0])));
    const challenge = await this.transact(Method.Allocate, attrs, null);
    const challenged = this.interpret(challenge);
    if (challenged.errorCode !== 401) {
      throw new Error(
        `an unsigned Allocate got ${challenged.ok ? 'a success' : challenged.errorCode}, not 401`,
      );
    }
    this.learnNonce(challenge);
    this.credential = credential;
    this.key = createHash('md5')
      .update(`${credential.username}:${this.realm}:${credential.password}`)
      .digest();
    return this.signed(Method.Allocate, attrs);
  }

  /** CreatePermission for `peer` (any port) on the current allocation. */
  createPermission(peer: string): Promise<TurnAnswer> {
    return this.signed(Method.CreatePermission, [], (transactionId) =>
      attribute(Attr.XorPeerAddress, encodeXorAddress(peer, 0, transactionId)),
    );
  }

  /** Refresh with LIFETIME `seconds`; 0 deletes the allocation. */
  refresh(seconds: number): Promise<TurnAnswer> {
    const lifetime = Buffer.alloc(4);
    lifetime.writeUInt32BE(seconds, 0);
    return this.signed(Method.Refresh, [attribute(Attr.Lifetime, lifetime)]);
  }

  close(): void {
    this.wire.close();
  }

  /** Realm and nonce from a 401 or 438 answer. */
  private learnNonce(answer: Decoded): void {
    const realm = answer.attributes.get(Attr.Realm);
    const nonce = answer.attributes.get(Attr.Nonce);
    if (!realm || !nonce) throw new Error('401 without REALM and NONCE');
    this.realm = realm.toString('utf8');
    this.nonce = nonce.toString('utf8');
  }

  private async signed(
    method: Method,
    attrs: Buffer[],
    perTransaction?: (transactionId: Buffer) => Buffer,
  ): Promise<TurnAnswer> {
    if (!this.credential || !this.key) throw new Error('allocate first');
    // 438 Stale Nonce: once more with the fresh nonce, as a client must.
    for (let attempt = 0; ; attempt++) {
      const auth = [
        attribute(Attr.Username, Buffer.from(this.credential.username, 'utf8')),
        attribute(Attr.Realm, Buffer.from(this.realm, 'utf8')),
        attribute(Attr.Nonce, Buffer.from(this.nonce, 'utf8')),
      ];
      const decoded = await this.transact(method, attrs, this.key, perTransaction, auth);
      const answer = this.interpret(decoded);
      if (answer.errorCode !== 438 || attempt > 0) return answer;
      this.learnNonce(decoded);
    }
  }

  private interpret(decoded: Decoded): TurnAnswer & { ok: boolean } {
    const errorClass = (decoded.type & 0x0110) === 0x0110;
    const ok = (decoded.type & 0x0110) === 0x0100;
    const error = decoded.attributes.get(Attr.ErrorCode);
    const relayed = decoded.attributes.get(Attr.XorRelayedAddress);
    let integrity: TurnAnswer['integrity'] = 'absent';
    if (decoded.integrityAt !== null && this.key) {
      const expected = integrityOf(decoded.raw, decoded.integrityAt, this.key);
      const actual = decoded.raw.subarray(decoded.integrityAt + 4, decoded.integrityAt + 24);
      integrity = timingSafeEqual(expected, actual) ? 'valid' : 'invalid';
    }
    return {
      ok,
      ...(errorClass && error
        ? {
            errorCode: (error[2] & 0x07) * 100 + error[3],
            reason: error.subarray(4).toString('utf8'),
          }
        : {}),
      ...(relayed ? { relayed: decodeXorAddress(relayed, decoded.transactionId) } : {}),
      integrity,
    };
  }

  private transact(
    method: Method,
    attrs: Buffer[],
    key: Buffer | null,
    perTransaction?: (transactionId: Buffer) => Buffer,
    auth: Buffer[] = [],
  ): Promise<Decoded & { ok: boolean }> {
    const transactionId = randomBytes(12);
    const all = [...attrs, ...(perTransaction ? [perTransaction(transactionId)] : []), ...auth];
    const message = encodeRequest(method, transactionId, all, key);
    const id = transactionId.toString('hex');
    return new Promise((resolveAnswer, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const done = (): void => timers.forEach((timer) => clearTimeout(timer));
      this.waiting.set(id, (decoded) => {
        done();
        resolveAnswer({ ...decoded, ok: (decoded.type & 0x0110) === 0x0100 });
      });
      this.wire.send(message);
      if (this.wire.retransmits) {
        for (let at = RETRANSMIT_MS; at < ANSWER_TIMEOUT_MS; at *= 2) {
          timers.push(setTimeout(() => this.wire.send(message), at));
        }
      }
      timers.push(
        setTimeout(() => {
          this.waiting.delete(id);
          done();
          reject(
            new Error(
              `no answer to TURN method 0x${method.toString(16)} within ${ANSWER_TIMEOUT_MS} ms`,
            ),
          );
        }, ANSWER_TIMEOUT_MS),
      );
    });
  }
}
