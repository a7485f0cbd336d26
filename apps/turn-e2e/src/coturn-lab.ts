import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, workspaceRoot } from '@ephemeral/testing';

import type { Credential } from './turn-client';

const SCRIPT = join(workspaceRoot, 'tools/coturn/coturn.sh');
// apt-get install on a cold machine, then coturn's start (~1-2 s).
export const COTURN_SETUP_TIMEOUT_MS = 180_000;

export interface ScriptResult {
  ok: boolean;
  output: string;
}

/** Runs tools/coturn/coturn.sh <command> with `env` on top of this process's. */
function coturnScript(command: string, env: Record<string, string>): Promise<ScriptResult> {
  return new Promise((resolveRun) => {
    execFile(
      'bash',
      [SCRIPT, command],
      { cwd: workspaceRoot, env: { ...process.env, ...env }, timeout: COTURN_SETUP_TIMEOUT_MS },
      (error, stdout, stderr) => resolveRun({ ok: !error, output: `${stdout}${stderr}` }),
    );
  });
}

export interface CoturnLabOptions {
  /** Render from this copy of k8s/base/coturn instead (to prove a bad one fails). */
  templateDir?: string;
  /**
   * Settings the pod gives render-config.sh (TURN_EXTERNAL_IP, POD_IP,
   * TURN_PROMETHEUS_PORT): coturn.sh passes its environment on to it.
   */
  renderEnv?: Record<string, string>;
}

/**
 * One coturn of tools/coturn/coturn.sh, private to a spec file: its own
 * directory, ports and random secret, running the config rendered from k8s/.
 */
export class CoturnLab {
  private ids = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number,
    /** The TURN REST secret, as the gateway would hold it. */
    readonly secret: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Installs coturn when missing and starts a lab; throws with the script's output. */
  static async start(options: CoturnLabOptions = {}): Promise<CoturnLab> {
    const lab = await CoturnLab.prepare(options);
    const install = await lab.script('install');
    if (!install.ok) throw new Error(`coturn.sh install failed:\n${install.output}`);
    const started = await lab.script('start');
    if (!started.ok) {
      lab.removeDir();
      throw new Error(`coturn.sh start failed:\n${started.output}`);
    }
    return lab;
  }

  /** The lab's directory, ports and secret file; nothing rendered or started yet. */
  static async prepare(options: CoturnLabOptions = {}): Promise<CoturnLab> {
    const dir = mkdtempSync(join(tmpdir(), 'coturn-lab-'));
    const secret = randomBytes(24).toString('hex');
    const secretFile = join(dir, 'turn-secret');
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    const port = await freePort();
    let tlsPort = await freePort();
    while (tlsPort === port) tlsPort = await freePort();
    const env: Record<string, string> = {
      COTURN_DIR: dir,
      COTURN_PORT: String(port),
      COTURN_TLS_PORT: String(tlsPort),
      COTURN_SECRET_FILE: secretFile,
      ...(options.templateDir ? { COTURN_TEMPLATE_DIR: options.templateDir } : {}),
      ...options.renderEnv,
    };
    return new CoturnLab(dir, port, tlsPort, secret, env);
  }

  get configFile(): string {
    return join(this.dir, 'turnserver.conf');
  }

  get certFile(): string {
    return join(this.dir, 'tls.crt');
  }

  /** The config coturn runs, as lines. */
  configLines(): string[] {
    return readFileSync(this.configFile, 'utf8').split('\n');
  }

  /** The one value of `key=value` in the running config. */
  configValue(key: string): string {
    const values = this.configLines()
      .filter((line) => line.startsWith(`${key}=`))
      .map((line) => line.slice(key.length + 1));
    if (values.length !== 1)
      throw new Error(`${values.length} '${key}=' lines in ${this.configFile}`);
    return values[0];
  }

  get pid(): number {
    return Number(readFileSync(join(this.dir, 'coturn.pid'), 'utf8').trim());
  }

  /** Everything coturn logged so far. */
  log(): string {
    return readFileSync(join(this.dir, 'coturn.log'), 'utf8');
  }

  /**
   * A TURN REST credential as coturn's use-auth-secret expects it:
   * username "<expiry unix seconds>:<id>", password base64(HMAC-SHA1(secret,
   * username)). `secret` defaults to the lab's; another one is a forgery.
   */
  credential(expiresAt: number, id = this.nextId(), secret = this.secret): Credential {
    const username = `${expiresAt}:${id}`;
    return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
  }

  /** A fresh peer id per credential: coturn's user-quota counts per id. */
  private nextId(): string {
    this.ids += 1;
    return `turn-e2e-${this.ids}`;
  }

  async stop(): Promise<void> {
    const stopped = await this.script('stop');
    this.removeDir();
    if (!stopped.ok) throw new Error(`coturn.sh stop failed:\n${stopped.output}`);
  }

  /** tools/coturn/coturn.sh <command> for this lab (render, start, status, stop). */
  script(command: 'install' | 'render' | 'start' | 'status' | 'stop'): Promise<ScriptResult> {
    return coturnScript(command, this.env);
  }

  removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Unix seconds now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
