import type { Admin } from 'kafkajs';

import { createLogger } from '@ephemeral/logging';

import { ensureTopic } from './ensure-topic';

const logger = createLogger({ service: 'kafka-spec', instance: 'spec', level: 'silent' });
const TOPIC = { topic: 'spec.topic', numPartitions: 3 };

function adminAnswering(createTopics: () => Promise<boolean>): Admin {
  return { createTopics } as unknown as Admin;
}

/** What kafkajs throws when the broker answers CreateTopics with per-topic errors. */
function aggregate(...types: string[]): Error {
  return Object.assign(new Error('Topic creation errors'), {
    name: 'KafkaJSAggregateError',
    errors: types.map((type) => Object.assign(new Error(type), { type })),
  });
}

describe('ensureTopic', () => {
  it('reports a topic it created, and one that already existed', async () => {
    await expect(
      ensureTopic(
        adminAnswering(async () => true),
        TOPIC,
        logger,
      ),
    ).resolves.toBe('created');
    await expect(
      ensureTopic(
        adminAnswering(async () => false),
        TOPIC,
        logger,
      ),
    ).resolves.toBe('exists');
  });

  it('leaves the topic to the platform when the ACLs refuse to let it create one', async () => {
    const refused = adminAnswering(() => Promise.reject(aggregate('TOPIC_AUTHORIZATION_FAILED')));
    await expect(ensureTopic(refused, TOPIC, logger)).resolves.toBe('provisioned-elsewhere');
  });

  it('throws any other failure, for the caller to retry', async () => {
    const failing = adminAnswering(() => Promise.reject(aggregate('INVALID_REPLICATION_FACTOR')));
    await expect(ensureTopic(failing, TOPIC, logger)).rejects.toThrow('Topic creation errors');
    const down = adminAnswering(() => Promise.reject(new Error('Connection error: ECONNREFUSED')));
    await expect(ensureTopic(down, TOPIC, logger)).rejects.toThrow(/ECONNREFUSED/);
  });
});
