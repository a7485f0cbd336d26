import { z } from 'zod';

/**
 * `KAFKA_BROKERS`: host:port[,host:port…], the bootstrap brokers (any of
 * them answers metadata). Parsed to a non-empty list.
 */
export const kafkaBrokersSchema = z
  .string()
  .trim()
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'each broker must be host:port'))
      .min(1, 'must list at least one broker'),
  );
