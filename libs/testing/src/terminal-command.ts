import { ServiceProcess } from './service-process';
import { workspaceRoot } from './workspace-paths';

export interface TerminalCommandOptions {
  /** The command line as a user types it in the repository root, e.g. ['npm', 'start']. */
  command: [string, ...string[]];
  env?: Record<string, string>;
  /** A line of its output that means "ready". */
  readyWhen: RegExp;
  readyTimeoutMs?: number;
}

/**
 * A documented command (`npm start`, `tools/start-distributed.sh`) run as a
 * user runs it in a terminal: from the repository root, in a process group
 * of its own, so `ctrlC()` reaches every process it started, as a
 * terminal's Ctrl-C does.
 */
export class TerminalCommand {
  private constructor(readonly process: ServiceProcess) {}

  static async start(options: TerminalCommandOptions): Promise<TerminalCommand> {
    const [interpreter, entry, ...args] = options.command;
    const service = await ServiceProcess.start({
      name: options.command.join(' '),
      interpreter,
      entry: entry ?? '',
      args,
      cwd: workspaceRoot,
      processGroup: true,
      env: options.env,
      readyWhen: options.readyWhen,
      readyTimeoutMs: options.readyTimeoutMs,
    });
    return new TerminalCommand(service);
  }

  /** Everything it printed so far, as one string. */
  get text(): string {
    return this.process.output.join('\n');
  }

  /** The messages of its JSON log lines. */
  logMessages(): unknown[] {
    return this.process.logRecords().map((record) => record['msg']);
  }

  /** SIGINT to the group; resolves once every process sharing its output has exited. */
  async ctrlC(timeoutMs = 20_000): Promise<void> {
    await this.process.stop('SIGINT', timeoutMs);
  }

  /** For afterAll: SIGTERM to the group if it still runs. */
  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 20_000);
  }
}
