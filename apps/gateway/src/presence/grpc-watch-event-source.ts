import type { ClientReadableStream } from '@grpc/grpc-js';

import type { WatchResponse } from '@ephemeral/protocol/presence';
import type { Logger } from '@ephemeral/logging';
import { Backoff } from '@ephemeral/server-runtime';

import type { GrpcPresenceClient } from './grpc-presence-client';
import type { PresenceEventHandlers, PresenceEventSource } from './presence-event-source';

// First retry within 250 ms, then at most every 5 s (Backoff): peer-left
// notices are late by at most that much while presence restarts.
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 5_000;

/** PresenceEventSource over presence's Watch server stream (all peers). */
export class GrpcWatchEventSource implements PresenceEventSource {
  private stream: ClientReadableStream<WatchResponse> | undefined;
  private handlers: PresenceEventHandlers | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private everConnected = false;
  private flowing = false;
  private readonly backoff = new Backoff(BACKOFF_BASE_MS, BACKOFF_MAX_MS);

  constructor(
    private readonly presence: GrpcPresenceClient,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return this.flowing;
  }

  async start(handlers: PresenceEventHandlers): Promise<void> {
    this.handlers = handlers;
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.stream = undefined;
    this.flowing = false;
  }

  private open(): void {
    if (this.stopped || !this.handlers) return;
    const handlers = this.handlers;
    const stream = this.presence.client.watch({ peerIds: [] });
    this.stream = stream;
    // The server sends headers when the watch is registered; events after
    // that are not missed, so that is the moment a gap can be repaired.
    stream.on('metadata', () => {
      if (this.stream !== stream) return;
      this.flowing = true;
      this.backoff.reset();
      this.logger.info({ event: 'presence-watch' }, 'presence watch connected');
      if (this.everConnected) handlers.onGap();
      this.everConnected = true;
    });
    stream.on('data', (response: WatchResponse) => {
      if (this.stream !== stream || !response.event) return;
      try {
        handlers.onEvent(response.event);
      } catch (error) {
        this.logger.error({ err: error }, 'presence event handler failed');
      }
    });
    stream.on('error', (error: Error) => {
      if (this.stream !== stream || this.stopped) return;
      this.logger.warn({ err: error }, 'presence watch broke');
      this.retry();
    });
    stream.on('end', () => {
      if (this.stream !== stream || this.stopped) return;
      this.logger.warn('presence watch ended');
      this.retry();
    });
  }

  private retry(): void {
    this.stream = undefined;
    this.flowing = false;
    // Whatever happens next, events may have been missed since the break.
    this.everConnected = true;
    clearTimeout(this.retryTimer);
    const delayMs = this.backoff.nextDelayMs();
    this.retryTimer = setTimeout(() => this.open(), delayMs);
  }
}
