// Kafka topic names, versioned with the record schema they carry. Bump the
// suffix when a record changes incompatibly so old and new gateways never read
// each other's records during a rolling upgrade.
export const BusTopics = {
  /** SignalRecord values keyed by target peer ID. */
  SIGNALS: 'ephemeral.signals.v1',
  /**
   * The routed bus (SIGNAL_BUS=routed): SignalRecord values keyed by target
   * peer ID, partition n read only by the gateway holding slot n.
   */
  ROUTED_SIGNALS: 'ephemeral.signals.routed.v1',
  /** PresenceEvent values keyed by peer ID. */
  PRESENCE_EVENTS: 'ephemeral.presence-events.v1',
  /** AuditRecord values keyed by the share's peer ID (AUDIT_SINK=kafka). */
  AUDIT: 'ephemeral.audit.v1',
} as const;
