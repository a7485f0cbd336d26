import { ClientFrame, ServerFrame } from '@ephemeral/protocol';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

/** What a relay does to the frames it carries; null drops a frame. */
export interface Tamper {
  /** Page → gateway. */
  toGateway?: (frame: ClientFrame) => ClientFrame | null;
  /** Gateway → page. */
  toPage?: (frame: ServerFrame) => ServerFrame | null;
}

/** Rewrites the SDP of every answer on its way to the page. */
export function rewriteAnswers(rewrite: (sdp: string) => string): Tamper {
  return {
    toPage: (frame) => {
      const payload = frame.kind?.$case === 'signal' ? frame.kind.value.signal?.payload : undefined;
      if (payload?.$case === 'answer') payload.value.sdp = rewrite(payload.value.sdp);
      return frame;
    },
  };
}

export interface SignalingRelay {
  /** Open pages here (`linkOn(relay.origin, link)`): their WebSocket goes through the relay. */
  readonly origin: string;
  /** Frames carried each way so far (after tampering, dropped ones not counted). */
  readonly carried: { toGateway: number; toPage: number };
  close(): Promise<void>;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * A real relay in front of the gateway, in this process, for any browser
 * (Playwright's routeWebSocket only drives Chromium): an HTTP + WebSocket
 * server on 127.0.0.1 that forwards every HTTP request to `gatewayOrigin`
 * (the Host header kept, so the page's CSP names the relay's host) and
 * relays the page's WebSocket to the gateway's, decoding each binary frame
 * (`ClientFrame` up, `ServerFrame` down) so `tamper` can rewrite or drop
 * it, as a compromised gateway or network path could. Upstream it presents
 * the gateway's own origin: the gateway refuses foreign Origins.
 */
export async function startSignalingRelay(
  gatewayOrigin: string,
  tamper: Tamper = {},
): Promise<SignalingRelay> {
  const upstream = new URL(gatewayOrigin);
  const carried = { toGateway: 0, toPage: 0 };
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  const server: Server = createServer((req, res) => {
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (page) => relay(page, req.url ?? '/ws'));
  });

  function relay(page: WebSocket, path: string): void {
    const gateway = new WebSocket(`ws://${upstream.host}${path}`, {
      headers: { Origin: upstream.origin },
    });
    sockets.add(page);
    sockets.add(gateway);
    const early: Array<Buffer | string> = [];
    page.on('message', (data, isBinary) => {
      let out: Buffer | string = isBinary ? toBuffer(data) : toBuffer(data).toString();
      if (isBinary && tamper.toGateway) {
        const frame = tamper.toGateway(ClientFrame.decode(out as Buffer));
        if (!frame) return;
        out = Buffer.from(ClientFrame.encode(frame).finish());
      }
      carried.toGateway++;
      if (gateway.readyState === WebSocket.OPEN) gateway.send(out);
      else early.push(out);
    });
    gateway.on('open', () => {
      for (const data of early.splice(0)) gateway.send(data);
    });
    gateway.on('message', (data, isBinary) => {
      let out: Buffer | string = isBinary ? toBuffer(data) : toBuffer(data).toString();
      if (isBinary && tamper.toPage) {
        const frame = tamper.toPage(ServerFrame.decode(out as Buffer));
        if (!frame) return;
        out = Buffer.from(ServerFrame.encode(frame).finish());
      }
      carried.toPage++;
      if (page.readyState === WebSocket.OPEN) page.send(out);
    });
    // A close code the peer may not send (1005, 1006) becomes a plain 1000.
    const closeCode = (code: number) =>
      code >= 3000 || [1000, 1001, 1008, 1011].includes(code) ? code : 1000;
    gateway.on('close', (code, reason) => {
      if (page.readyState === WebSocket.OPEN) page.close(closeCode(code), reason);
      sockets.delete(gateway);
    });
    page.on('close', (code, reason) => {
      if (gateway.readyState === WebSocket.OPEN) gateway.close(closeCode(code), reason);
      else if (gateway.readyState === WebSocket.CONNECTING) gateway.terminate();
      sockets.delete(page);
    });
    gateway.on('error', () => page.terminate());
    page.on('error', () => gateway.terminate());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    carried,
    close: async () => {
      for (const socket of sockets) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
