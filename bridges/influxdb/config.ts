import { z } from 'zod';
import type { CapabilityConfig } from '../../src/config/capability-config.js';
import { duration, wholeNumber } from '../../src/config/units.js';

const URL_ERROR = 'expected an http(s) URL of InfluxDB such as "http://127.0.0.1:8086"';

/**
 * The InfluxDB history bridge (issue 19): events and sampled states written through the
 * 1.x write API, which InfluxDB 2.x and 3.x also serve (docs/influxdb.md).
 */
const section = z.strictObject({
  url: z
    .string({ error: URL_ERROR })
    .refine((u) => /^https?:\/\/[^\s/]+/.test(u) && URL.canParse(u), { error: URL_ERROR }),
  database: z
    .string({ error: 'expected a database name such as "outpost"' })
    .min(1, { error: 'expected a non-empty database name' })
    .default('outpost'),
  // Unset: the database's default retention policy (2.x: the DBRP mapping's default).
  retention_policy: z
    .string({ error: 'expected a retention policy name' })
    .min(1, { error: 'expected a non-empty retention policy name' })
    .optional(),
  username: z.string({ error: 'expected a user name' }).optional(),
  password: z.string({ error: 'expected a password' }).optional(),
  /** Points per write request, at most. */
  batch_size: wholeNumber('points', 1)
    .max(50_000, { error: 'expected at most 50000 points' })
    .default(1000),
  /** How long a partly filled batch waits for more events before it is written. */
  flush_interval: duration('1s', '1h').prefault('1s'),
  /** How often the agent's states are sampled into the event store; 0s turns sampling off. */
  sample_interval: duration('60s').prefault('60s'),
  request_timeout: duration('10s', '10m').prefault('10s'),
  retry_min: duration('1s', '1h').prefault('1s'),
  retry_max: duration('60s', '1d').prefault('60s'),
});

export const influxdbConfig = {
  key: 'influxdb',
  section: section.optional(),
} satisfies CapabilityConfig<'influxdb', z.ZodOptional<typeof section>>;

export type InfluxdbConfig = z.output<typeof section>;
