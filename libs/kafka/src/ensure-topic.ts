import type { Admin, ITopicConfig } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';

export type EnsureTopicResult = 'created' | 'exists' | 'provisioned-elsewhere';

/** kafkajs's refusal of CreateTopics (an aggregate of per-topic errors, or one). */
function isTopicAuthorizationFailure(error: unknown): boolean {
  const typeOf = (e: unknown) =>
    typeof e === 'object' && e !== null ? (e as { type?: unknown }).type : undefined;
  const errors = (error as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.every((e) => typeOf(e) === 'TOPIC_AUTHORIZATION_FAILED');
  }
  return (
    typeOf(error) === 'TOPIC_AUTHORIZATION_FAILED' ||
    typeOf((error as { cause?: unknown } | null)?.cause) === 'TOPIC_AUTHORIZATION_FAILED'
  );
}

/**
 * Creates `topic` if it is absent (several replicas may race: fine). Where
 * the broker enforces ACLs and this service may not create topics (in k8s a
 * Strimzi KafkaTopic provisions them, docs/security.md), the refusal is not
 * an error: the topic is someone else's to create, and reading or writing
 * it fails (and is retried) until it exists. Other failures are thrown.
 */
export async function ensureTopic(
  admin: Admin,
  topic: ITopicConfig,
  logger: Logger,
): Promise<EnsureTopicResult> {
  let created: boolean;
  try {
    created = await admin.createTopics({ waitForLeaders: true, topics: [topic] });
  } catch (error) {
    if (!isTopicAuthorizationFailure(error)) throw error;
    logger.info(
      { topic: topic.topic },
      'not allowed to create the topic (ACLs): using it as provisioned by the platform',
    );
    return 'provisioned-elsewhere';
  }
  if (created) {
    logger.info({ topic: topic.topic, partitions: topic.numPartitions }, 'topic created');
  }
  return created ? 'created' : 'exists';
}
