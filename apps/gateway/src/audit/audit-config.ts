import { z } from 'zod';

import { BusTopics } from '@ephemeral/protocol/presence';

/** AUDIT_SINK and what goes into the records (docs/audit.md). */
export interface AuditConfig {
  /** `off` (default): no records are written. `kafka`: to `topic` on KAFKA_BROKERS. */
  sink: 'off' | 'kafka';
  topic: string;
  /** File names from the sender's reports go into TransferEnded records only when true. */
  fileNames: boolean;
  /** ReportTransfer frames one connection may send: per minute, and burst. */
  reportsPerMinute: number;
  reportsBurst: number;
}

const schema = z.object({
  AUDIT_SINK: z.enum(['off', 'kafka'], { error: 'must be "off" or "kafka"' }).default('off'),
  AUDIT_TOPIC: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (1-249 of [A-Za-z0-9._-])')
    .default(BusTopics.AUDIT),
  AUDIT_FILE_NAMES: z
    .enum(['true', 'false'], { error: 'must be "true" or "false"' })
    .default('false'),
  // A sender with many receivers reports once per receiver that finishes or
  // fails: 120 a minute with a burst of 30 covers a class downloading at
  // once and still bounds what one page can make the gateway write.
  AUDIT_REPORTS_PER_MINUTE: z.coerce.number().int().min(1).max(60_000).default(120),
  AUDIT_REPORTS_BURST: z.coerce.number().int().min(1).max(10_000).default(30),
});

/** Reads the audit settings; problems go into `problems` (the gateway lists them all at once). */
export function loadAuditConfig(
  env: Record<string, string | undefined>,
  hasKafka: boolean,
  problems: string[],
): AuditConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')}: ${issue.message}`);
    }
    return {
      sink: 'off',
      topic: BusTopics.AUDIT,
      fileNames: false,
      reportsPerMinute: 120,
      reportsBurst: 30,
    };
  }
  const e = parsed.data;
  if (e.AUDIT_SINK === 'kafka' && !hasKafka) {
    problems.push('KAFKA_BROKERS: required when AUDIT_SINK=kafka');
  }
  return {
    sink: e.AUDIT_SINK,
    topic: e.AUDIT_TOPIC,
    fileNames: e.AUDIT_FILE_NAMES === 'true',
    reportsPerMinute: e.AUDIT_REPORTS_PER_MINUTE,
    reportsBurst: e.AUDIT_REPORTS_BURST,
  };
}
