import { ChildProcess, spawn } from 'node:child_process';

export interface ServiceProcessOptions {
  /** Short name used in error messages and the captured log prefix. */
  name: string;
  /** Node script to run (usually from builtAppEntry). */
  entry: string;
  /** Command-line arguments for the script. */
  args?: string[];
  env?: Record<string, string>;
  /** A line of the process output that means "ready" (e.g. a listening log). */
  readyWhen: RegExp;
  readyTimeoutMs?: number;
}

/**
 * A server app running as a real child process. Output is captured (stdout
 * and stderr, line by line) so tests can wait for and assert on log lines.
 */
export class ServiceProcess {
  private readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(
    readonly options: ServiceProcessOptions,
    private readonly child: ChildProcess,
  ) {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.notify();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      this.notify();
    });
  }

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [options.entry, ...(options.args ?? [])], {
      env: { ...process.env, LOG_LEVEL: 'debug', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(options, child);
    await service.waitForLine(options.readyWhen, options.readyTimeoutMs ?? 15_000);
    return service;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get output(): readonly string[] {
    return this.lines;
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  get exitCode(): number | null {
    return this.exitInfo?.code ?? null;
  }

  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logRecords(): Array<Record<string, unknown>> {
    const records: Array<Record<string, unknown>> = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
    return records;
  }

  /** Resolves with the first line (already seen or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolveLine, reject) => {
      const check = (): boolean => {
        const line = this.lines.find((l) => pattern.test(l));
        if (line !== undefined) {
          finish();
          resolveLine(line);
          return true;
        }
        if (this.exitInfo) {
          finish();
          reject(
            new Error(
              `${this.options.name} exited (${this.exitInfo.code ?? this.exitInfo.signal}) before printing ${pattern}:\n${this.tail()}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `${this.options.name}: no line matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Sends `signal` and waits for the process to exit (SIGKILL after the timeout). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (this.exitInfo) return this.exitInfo.code;
    const exited = new Promise<void>((resolveExit) => this.child.once('exit', () => resolveExit()));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    return this.exitCode;
  }

  /** `kill -9`: no shutdown hooks run, as when a machine dies. */
  kill9(): Promise<number | null> {
    return this.stop('SIGKILL');
  }

  tail(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
