import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually, freePort } from '@ephemeral/testing';

import { BrowserPeer, ChromiumPeer, FirefoxPeer, type Peer } from '@ephemeral/browser-testing';

import type { LanSide, NetLab } from './netlab';
import { RTC_PROBE } from './rtc-probe';

/**
 * Forwards 127.0.0.1:`port` of this (the host's) namespace to 127.0.0.1:`port`
 * inside a LAN namespace, through a Unix socket (paths cross network
 * namespaces): a helper inside the LAN accepts on the socket and connects
 * there. Firefox speaks WebDriver BiDi over a WebSocket only, no pipe.
 */
class NamespaceBridge {
  private constructor(
    private readonly server: Server,
    private readonly helper: ChildProcess,
    private readonly dir: string,
  ) {}

  static async open(lab: NetLab, side: LanSide, port: number): Promise<NamespaceBridge> {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-bridge-'));
    const socketPath = join(dir, 'bidi.sock');
    const helperCode = `
      const net = require('node:net');
      net.createServer((c) => {
        const t = net.createConnection(${port}, '127.0.0.1');
        c.pipe(t).pipe(c);
        c.on('error', () => t.destroy()); t.on('error', () => c.destroy());
      }).listen(${JSON.stringify(socketPath)});`;
    const helper = spawn(lab.bin(`in-lan-${side}`), [process.execPath, '-e', helperCode], {
      stdio: 'ignore',
    });
    const server = createServer((client) => {
      const inside = createConnection(socketPath);
      client.pipe(inside).pipe(client);
      client.on('error', () => inside.destroy());
      inside.on('error', () => client.destroy());
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolveListen());
    });
    const bridge = new NamespaceBridge(server, helper, dir);
    await eventually(
      () =>
        new Promise<boolean>((resolveProbe) => {
          const probe = createConnection(socketPath);
          probe.once('connect', () => (probe.destroy(), resolveProbe(true)));
          probe.once('error', () => resolveProbe(false));
        }),
      { timeoutMs: 15_000, description: `the bridge into lan-${side} listens` },
    ).catch(async (error) => {
      await bridge.close();
      throw error;
    });
    return bridge;
  }

  async close(): Promise<void> {
    this.helper.kill('SIGKILL');
    await new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Firefox peer in a LAN, with what it needs removed on close. */
class LabFirefoxPeer {
  static async launch(lab: NetLab, side: LanSide, name: string): Promise<FirefoxPeer> {
    // Its own profile with the lab CA in its certificate store (cert9.db).
    const profile = mkdtempSync(join(tmpdir(), `netlab-${name}-profile-`));
    execFileSync('certutil', ['-N', '-d', `sql:${profile}`, '--empty-password']);
    execFileSync('certutil', [
      '-A',
      '-d',
      `sql:${profile}`,
      '-n',
      'netlab-ca',
      '-t',
      'C,,',
      '-i',
      lab.caCertFile,
    ]);
    const port = await freePort();
    const bridge = await NamespaceBridge.open(lab, side, port);
    try {
      const peer = await FirefoxPeer.launch(name, {
        executablePath: lab.bin(`lan-${side}-firefox-esr`),
        debuggingPort: port,
        userDataDir: profile,
      });
      await peer.page.evaluateOnNewDocument(RTC_PROBE);
      const close = peer.close.bind(peer);
      peer.close = async () => {
        await close();
        await bridge.close();
        rmSync(profile, { recursive: true, force: true });
      };
      return peer;
    } catch (error) {
      await bridge.close();
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
  }
}

/**
 * The browsers a lab spec launched, each inside LAN a or b through the lab's
 * wrapper executables (`ip netns exec <lan> <browser>`), with the RTC probe.
 */
export class LabPeers {
  private readonly open: Peer[] = [];

  constructor(private readonly lab: () => NetLab) {}

  /** `trustLabCa: false`: a Chromium whose certificate store lacks the lab CA. */
  async chromium(side: LanSide, name: string, trustLabCa = true): Promise<ChromiumPeer> {
    const browser = await BrowserPeer.launch(name, 'picker', {
      executablePath: this.lab().bin(`lan-${side}-chromium${trustLabCa ? '' : '-no-ca'}`),
    });
    const peer = new ChromiumPeer(name, browser);
    this.open.push(peer);
    await browser.context.addInitScript(RTC_PROBE);
    return peer;
  }

  async firefox(side: LanSide, name: string): Promise<FirefoxPeer> {
    const peer = await LabFirefoxPeer.launch(this.lab(), side, name);
    this.open.push(peer);
    return peer;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((peer) => peer.close()));
  }
}
