import { GatewayStack, type StackOptions } from '@ephemeral/testing';

import { connectRelayClient } from './ephemeral-relay-client';
import { LOOPBACK_BENCHMARK_LIMITS, type RelayClient, type RelayTarget } from './relay-target';

/** Our presence + gateway, started from dist/ as real processes. */
export class EphemeralTarget implements RelayTarget {
  private stack: GatewayStack | undefined;

  constructor(
    readonly name: string,
    private readonly options: StackOptions = {},
  ) {}

  async start(): Promise<void> {
    // info, not debug: the harness waits for the "listening" line, and
    // per-signal debug logging would be measured too.
    const quiet = { LOG_LEVEL: 'info' };
    this.stack = await GatewayStack.start({
      presenceEnv: { ...quiet, ...this.options.presenceEnv },
      gatewayEnv: { ...quiet, ...LOOPBACK_BENCHMARK_LIMITS, ...this.options.gatewayEnv },
    });
  }

  async connect(): Promise<RelayClient> {
    return connectRelayClient(this.requireStack().wsUrl);
  }

  serverPids(): Record<string, number> {
    const stack = this.requireStack();
    return { gateway: stack.gateway.pid ?? 0, presence: stack.presence.pid ?? 0 };
  }

  socketHolders(): string[] {
    return ['gateway'];
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
  }

  private requireStack(): GatewayStack {
    if (!this.stack) throw new Error(`${this.name} is not started`);
    return this.stack;
  }
}
