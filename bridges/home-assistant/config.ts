import { z } from 'zod';
import type { CapabilityConfig } from '../../src/config/capability-config.js';
import { duration, wholeNumber } from '../../src/config/units.js';

/**
 * The Home Assistant bridge's config (issue 18): how its websocket API is reached, what of
 * HA's own health is watched, and which notify services hear which alerts.
 */

const wsUrlError =
  'expected the websocket API URL such as "ws://homeassistant.local:8123/api/websocket" (ws:// or wss://)';
const wsUrl = z
  .string({ error: wsUrlError })
  .regex(/^wss?:\/\/[^\s/@]+(:\d{1,5})?\/\S*$/, { error: wsUrlError });

const envName = z
  .string({ error: 'expected the name of an environment variable such as "HA_TOKEN"' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'expected the name of an environment variable such as "HA_TOKEN" (letters, digits, _)',
  });

const serviceError = 'expected a notify service such as "notify.telegram_ops"';
const notifyService = z
  .string({ error: serviceError })
  .regex(/^notify\.[a-z0-9_]+$/, { error: serviceError });

const glob = (example: string) =>
  z
    .string({ error: `expected a name or glob such as "${example}"` })
    .min(1, { error: `expected a name or glob such as "${example}"` })
    .max(200, { error: 'expected a glob of at most 200 characters' });

const severity = z.enum(['debug', 'info', 'warning', 'error', 'critical'], {
  error: 'expected one of debug, info, warning, error, critical',
});

/** One notify route: which alerts go to which service, and how its buttons look. */
const route = z.strictObject({
  service: notifyService,
  /** The lowest severity sent; recoveries (info) of an incident that was sent always go. */
  severity: severity.default('warning'),
  subjects: z.array(glob('nas/*'), { error: 'expected a list of subject globs' }).default(['*']),
  /** How approve / reject buttons are attached: a Telegram keyboard or app actions. */
  buttons: z
    .enum(['telegram', 'mobile_app', 'none'], { error: 'expected telegram, mobile_app or none' })
    .optional(),
});

const unavailable = z
  .strictObject({
    after: duration('15m').prefault('15m'),
    domains: z.array(glob('light'), { error: 'expected a list of domains' }).default([]),
    integrations: z.array(glob('zha'), { error: 'expected a list of integrations' }).default([]),
    entities: z
      .array(glob('sensor.garden_*'), { error: 'expected a list of entity ids' })
      .default([]),
    /** Entities named in the alert and the entity's attributes, at most. */
    max_listed: wholeNumber('entities', 1).default(20),
  })
  .prefault({});

const section = z
  .strictObject({
    url: wsUrl,
    token_env: envName.default('HA_TOKEN'),
    /** Longest wait for any one answer from HA (auth, a command, a pong). */
    timeout: duration('10s', '10m').prefault('10s'),
    ping_every: duration('30s', '1h').prefault('30s'),
    reconnect_min: duration('1s').prefault('1s'),
    reconnect_max: duration('5m').prefault('5m'),
    /** The websocket down or silent this long while HA's host answers: an incident. */
    dead_after: duration('5m').prefault('5m'),
    check_every: duration('1m').prefault('1m'),
    offline: unavailable,
    /** HA's container, `<host>/<name>`: a deliberate restart of it is no outage. */
    container: z
      .string({ error: 'expected the Home Assistant container as "<host>/<name>"' })
      .regex(/^[a-zA-Z0-9_-]+\/[a-zA-Z0-9_.-]+$/, {
        error:
          'expected the Home Assistant container as "<host>/<name>", e.g. "local/homeassistant"',
      })
      .optional(),
    restart_grace: duration('5m').prefault('5m'),
    notify: z.array(route, { error: 'expected a list of notify routes' }).default([]),
    group_window: duration('10s', '10m').prefault('10s'),
    stale_after: duration('15m').prefault('15m'),
  })
  .optional();

export const homeAssistantConfig = {
  key: 'home_assistant',
  section,
} satisfies CapabilityConfig<'home_assistant', typeof section>;

export type HomeAssistantConfig = NonNullable<z.output<typeof section>>;
export type NotifyRoute = HomeAssistantConfig['notify'][number];
