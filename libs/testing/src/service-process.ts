import { ChildProcess, spawn } from 'node:child_process';

export interface ServiceProcessOptions {
  /** Short name used in error messages and the captured log prefix. */
  name: string;
  /** Script to run (usually from builtAppEntry). */
  entry: string;
  /** What runs `entry`: node (the default), or e.g. `bash` for a tools/ script. */
  interpreter?: string;
  /** Working directory [this process's]. */
  cwd?: string;
  /**
   * Run it in a process group of its own and signal the whole group, as a
   * terminal's Ctrl-C does. For scripts that start processes of their own
   * (a signal to the script alone may never reach them).
   */
  processGroup?: boolean;
  /** Command-line arguments for the script. */
  args?: string[];
  env?: Record<string, string>;
  /** A line of the process output that means "ready" (e.g. a listening log). */
  readyWhen: RegExp;
  readyTimeoutMs?: number;
}

export type LogRecord = Record<string, unknown>;

function parseLogRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return undefined; // not a log record
  }
}

/**
 * A server app running as a real child process. Output is captured (stdout
 * and stderr, line by line) so tests can wait for and assert on log lines.
 */
export class ServiceProcess {
  private readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private outputClosed = false;
  /** Settles when the process has exited and all its output has been read. */
  readonly closed: Promise<void>;

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
    });
    // 'close' comes after 'exit' once stdout and stderr are drained: only
    // then is the captured output complete.
    this.closed = new Promise((resolveClosed) =>
      child.once('close', (code, signal) => {
        this.exitInfo ??= { code, signal };
        if (partial) this.lines.push(partial);
        partial = '';
        this.outputClosed = true;
        this.notify();
        resolveClosed();
      }),
    );
  }

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const interpreter = options.interpreter ?? process.execPath;
    const child = spawn(interpreter, [options.entry, ...(options.args ?? [])], {
      cwd: options.cwd,
      detached: options.processGroup ?? false,
      env: { ...process.env, LOG_LEVEL: 'debug', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(options, child);
    try {
      await service.waitForLine(options.readyWhen, options.readyTimeoutMs ?? 15_000);
    } catch (error) {
      await service.stop(); // never leave a half-started process behind
      throw error;
    }
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
  logRecords(): LogRecord[] {
    const records: LogRecord[] = [];
    for (const line of this.lines) {
      const record = parseLogRecord(line);
      if (record) records.push(record);
    }
    return records;
  }

  /** Resolves with the first line (already seen or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return this.waitFor(
      () => this.lines.find((l) => pattern.test(l)),
      `a line matching ${pattern}`,
      timeoutMs,
    );
  }

  /**
   * Resolves with the first log record (already seen or future) that matches.
   * A client sees a server's answer before the server's log line has crossed
   * the pipe to this process, so tests wait for log lines; they never assume.
   */
  waitForLogRecord(
    matches: (record: LogRecord) => boolean,
    timeoutMs = 10_000,
  ): Promise<LogRecord> {
    return this.waitFor(
      () => this.logRecords().find(matches),
      `a log record matching ${matches.toString()}`,
      timeoutMs,
    );
  }

  private waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolveFound, reject) => {
      const check = (): boolean => {
        const found = find();
        if (found !== undefined) {
          finish();
          resolveFound(found);
          return true;
        }
        if (this.exitInfo && this.outputClosed) {
          finish();
          reject(
            new Error(
              `${this.options.name} exited (${this.exitInfo.code ?? this.exitInfo.signal}) before printing ${what}:\n${this.tail()}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`${this.options.name}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`),
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
    if (this.exitInfo) {
      await this.closed;
      return this.exitInfo.code;
    }
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    await this.closed;
    clearTimeout(timer);
    return this.exitCode;
  }

  /** `kill -9`: no shutdown hooks run, as when a machine dies. */
  kill9(): Promise<number | null> {
    return this.stop('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.options.processGroup || this.child.pid === undefined) {
      this.child.kill(signal);
      return;
    }
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is gone already
    }
  }

  tail(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
