import { z } from 'zod';
import type { CapabilityConfig } from '../../src/config/capability-config.js';
import { duration, wholeNumber } from '../../src/config/units.js';

/**
 * The Zigbee2MQTT watch (issue 19): the coordinator's bridge state, info and health on the
 * site's broker (the agent's own MQTT link, embedded or external).
 */
const section = z.strictObject({
  base_topic: z
    .string({ error: 'expected Zigbee2MQTT\'s base topic such as "zigbee2mqtt"' })
    .regex(/^[^+#\s]+$/, { error: 'expected a topic without +, # or spaces such as "zigbee2mqtt"' })
    .refine((t) => !t.startsWith('/') && !t.endsWith('/'), {
      error: 'expected a topic without a leading or trailing /',
    })
    .default('zigbee2mqtt'),
  /** The coordinator offline (or silent after its last will) this long opens an incident. */
  offline_after: duration('5m').prefault('5m'),
  /** A device whose last_seen is older than this counts as stale; unset: not checked. */
  stale_after: duration('25h').optional(),
  /** Stale devices named in the entity's attributes, at most. */
  stale_list_max: wholeNumber('devices', 1)
    .max(1000, { error: 'expected at most 1000' })
    .default(50),
});

export const zigbee2mqttConfig = {
  key: 'zigbee2mqtt',
  section: section.optional(),
} satisfies CapabilityConfig<'zigbee2mqtt', z.ZodOptional<typeof section>>;

export type Zigbee2mqttConfig = z.output<typeof section>;
