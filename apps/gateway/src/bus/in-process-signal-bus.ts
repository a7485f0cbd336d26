import type { SignalRecord } from '@ephemeral/protocol';

import { SignalBusUnavailableError, type SignalBus, type SignalRecordHandler } from './signal-bus';

/**
 * The embedded default: one gateway, so publishing is handing the record to
 * this instance's own handler. Delivery is synchronous, which keeps
 * per-target order trivially.
 */
export class InProcessSignalBus implements SignalBus {
  private handler: SignalRecordHandler | undefined;
  private started = false;

  get ready(): boolean {
    return this.started;
  }

  subscribe(handler: SignalRecordHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  async publish(record: SignalRecord): Promise<void> {
    if (!this.started) throw new SignalBusUnavailableError('the signal bus is stopped');
    this.handler?.(record);
  }
}
