import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { Kafka, logLevel } from 'kafkajs';

import {
  DEFAULT_KAFKA_BROKERS,
  kafkaAdminSasl,
  kafkaCredentialsDir,
  provisionKafka,
} from '@ephemeral/testing';

/** Where the gateway writes audit records (AUDIT_SINK=kafka). */
export const AUDIT_TOPIC = 'ephemeral.audit.v1';

/**
 * The audit topic and the audit-reader login exist on the shared broker:
 * provisioned (without a restart) when either is missing.
 */
export async function ensureAuditProvisioned(clientId: string): Promise<void> {
  const admin = new Kafka({
    clientId,
    brokers: [DEFAULT_KAFKA_BROKERS],
    sasl: kafkaAdminSasl(),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    const readerPassword = join(kafkaCredentialsDir(), 'audit-reader.password');
    if (!topics.includes(AUDIT_TOPIC) || !existsSync(readerPassword)) await provisionKafka();
  } finally {
    await admin.disconnect();
  }
}
