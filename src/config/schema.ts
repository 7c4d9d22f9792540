import { hostname } from 'node:os';
import { z } from 'zod';
import { slugifyId } from '../core/slug.js';
import { COMMAND_ACTIONS } from '../core/topics.js';
import { containersConfig } from '../capabilities/containers/config.js';
import { disksConfig } from '../capabilities/disks/config.js';
import { watchdogConfig } from '../capabilities/watchdog/config.js';
import { homeAssistantConfig } from '../../bridges/home-assistant/config.js';
import { backupsConfig } from '../capabilities/backups/config.js';
import { influxdbConfig } from '../../bridges/influxdb/config.js';
import { zigbee2mqttConfig } from '../../bridges/zigbee2mqtt/config.js';
import { hostFieldsOf, sectionsOf } from './capability-config.js';
import { CHANNEL_APPROVER, checkLoginApprovers } from './approvers.js';
import { checkStatusPage, checkWebApprovers, statusPageFields } from './http-users.js';
import {
  duration,
  id,
  listen,
  parseSize,
  port,
  requireUnique,
  size,
  wholeNumber,
} from './units.js';

/**
 * Each capability's config (its section, its host fields): a new capability adds one entry.
 * Their files import nothing but zod and ./units.ts, so the schema stays a leaf.
 */
const CAPABILITIES = [
  containersConfig,
  watchdogConfig,
  disksConfig,
  homeAssistantConfig,
  backupsConfig,
  influxdbConfig,
  zigbee2mqttConfig,
] as const;

/**
 * The one configuration schema (STYLE.md §9): the type, the defaults and every error.
 * Every object is strict: an unknown key is an error, so a typo never silently does nothing.
 * docs: docs/configuration.md lists every key; a test keeps the two in sync.
 */

const topicSegment = (what: string) =>
  z
    .string({ error: `expected a ${what}: a topic level without /, + or #` })
    .min(1, { error: `expected a non-empty ${what}` })
    .regex(/^[^/+#\s]+$/, { error: `expected a ${what}: a topic level without /, +, # or spaces` });

const topicFilter = z
  .string({ error: 'expected an MQTT topic filter such as "zigbee2mqtt/#"' })
  .min(1, { error: 'expected a non-empty MQTT topic filter' })
  .refine(
    (f) =>
      f
        .split('/')
        .every((lvl, i, all) =>
          lvl.includes('#')
            ? lvl === '#' && i === all.length - 1
            : !lvl.includes('+') || lvl === '+',
        ),
    {
      error: 'expected an MQTT topic filter: # only as the last level, + only as a whole level',
    },
  );

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
  error: 'expected one of trace, debug, info, warn, error, fatal, silent',
});

const brokerUser = z.strictObject({
  username: z
    .string({ error: 'expected a user name' })
    .min(1, { error: 'expected a non-empty user name' })
    // Approvers from Home Assistant are `telegram:<id>` / `ha:<user id>`, from the status
    // page `web:<name>`: no login may pose as one.
    .refine((u) => !CHANNEL_APPROVER.test(u), {
      error:
        'expected a user name not starting with telegram:, ha: or web: (kept for Home Assistant and the status page)',
    }),
  password: z.string({ error: 'expected a password (use ${VAR} to read it from the environment)' }),
  /** Topic filters this user may publish to inside the agent's own topics. */
  publish: z.array(topicFilter, { error: 'expected a list of topic filters' }).optional(),
  /** Topic filters this user may subscribe to; everything when absent. */
  subscribe: z.array(topicFilter, { error: 'expected a list of topic filters' }).optional(),
});

const brokerServerTls = z.strictObject({
  listen: listen('0.0.0.0:8883').prefault('0.0.0.0:8883'),
  cert_file: z.string({ error: 'expected a path to a PEM certificate' }),
  key_file: z.string({ error: 'expected a path to a PEM private key' }),
  ca_file: z.string({ error: 'expected a path to a PEM CA bundle' }).optional(),
  require_client_cert: z.boolean({ error: 'expected true or false' }).default(false),
});

const clientTls = z.strictObject({
  ca_file: z.string({ error: 'expected a path to a PEM CA bundle' }).optional(),
  cert_file: z.string({ error: 'expected a path to a PEM client certificate' }).optional(),
  key_file: z.string({ error: 'expected a path to a PEM client key' }).optional(),
  reject_unauthorized: z.boolean({ error: 'expected true or false' }).default(true),
});

/** A broker URL field; the example names the broker the message is about. */
const brokerUrl = (example: string) =>
  z
    .string({ error: `expected a broker URL such as "${example}"` })
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, {
      error: `expected a broker URL such as "mqtt://host:1883" or "${example}"`,
    });

/** How the agent logs in to a broker it connects to (the external one, the uplink). */
const clientLogin = {
  username: z.string({ error: 'expected a user name' }).optional(),
  password: z
    .string({ error: 'expected a password (use ${VAR} to read it from the environment)' })
    .optional(),
  client_tls: clientTls.optional(),
  protocol: z
    .enum(['auto', '5', '3.1.1'], { error: 'expected "auto", "5" or "3.1.1"' })
    .default('auto'),
};

const broker = z
  .strictObject({
    mode: z
      .enum(['embedded', 'external'], { error: 'expected "embedded" or "external"' })
      .default('embedded'),
    // embedded
    listen: listen().prefault('0.0.0.0:1883'),
    tls: brokerServerTls.optional(),
    allow_anonymous: z.boolean({ error: 'expected true or false' }).default(true),
    users: z.array(brokerUser, { error: 'expected a list of users' }).default([]),
    // Per client (src/mqtt/client-queues.ts); "0s" is no timer. aedes arms it on its own Node
    // timer (no chaining), and a client that has not read its socket for an hour is frozen.
    drain_timeout: duration('10s', '1h').prefault('10s'),
    client_queue: size('1MiB')
      .prefault('1MiB')
      .refine((n) => n >= 1024, { error: 'expected a size of 1KiB or more' }),
    persistence: z.boolean({ error: 'expected true or false' }).default(true),
    // external
    url: brokerUrl('mqtts://host:8883').optional(),
    ...clientLogin,
  })
  .superRefine((b, ctx) => {
    if (b.mode === 'external' && !b.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'expected a broker URL when mode is "external"',
        input: b.url,
      });
    }
    if (b.mode === 'embedded' && b.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'expected no url when mode is "embedded" (set mode: external)',
        input: b.url,
      });
    }
    requireUnique(ctx, b.users, { path: ['users'], field: 'username', what: 'user name' });
  });

const discovery = z.strictObject({
  device_based: z.boolean({ error: 'expected true or false' }).default(false),
  rate: z
    .number({ error: 'expected messages per second, e.g. 200' })
    .positive({ error: 'expected messages per second above 0' })
    .default(300),
  prune_after: z
    .int({ error: 'expected a whole number of observations, 1 or more' })
    .min(1)
    .default(3),
  heartbeat: duration('1h').optional(),
  // A flood of HA birth messages must not become a flood of republish rounds (issue 13, point 5).
  birth_cooldown: duration('30s').prefault('30s'),
});

const store = z.strictObject({
  max_bytes: size('512MiB').prefault('512MiB'),
  max_age: duration('30d').prefault('30d'),
  retention: duration('7d').prefault('7d'),
  /** Events held in memory while the store cannot write (src/store/spill.ts). */
  spill: z
    .strictObject({
      max_events: wholeNumber('events', 1).default(10_000),
      max_bytes: size('4MiB').prefault('4MiB'),
    })
    .prefault({}),
});

const mqtt = z.strictObject({
  base_topic: topicSegment('base topic').default('outpost'),
  discovery_prefix: topicSegment('discovery prefix').default('homeassistant'),
  client_id: z.string({ error: 'expected a client id' }).min(1).max(64).optional(),
  // A 16-bit number of seconds on the wire (MQTT 3.1.1 and 5.0, §3.1.2.10 Keep Alive).
  keepalive: duration('30s', '65535s').prefault('30s'),
  reconnect_min: duration('1s').prefault('1s'),
  reconnect_max: duration('60s').prefault('60s'),
  queue_limit: z
    .int({ error: 'expected a whole number of messages, 0 or more' })
    .min(0)
    .default(10_000),
});

const ssh = z.strictObject({
  host: z.string({ error: 'expected a host name or address' }).min(1),
  port: port().default(22),
  user: z.string({ error: 'expected a user name' }).min(1),
  key_file: z.string({ error: 'expected a path to a private key' }).optional(),
  passphrase: z.string({ error: 'expected a passphrase' }).optional(),
  host_key: z
    .string({ error: 'expected a host key fingerprint "SHA256:…" as ssh-keygen -lf prints it' })
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, {
      error: 'expected a host key fingerprint "SHA256:…" as ssh-keygen -lf prints it',
    })
    .optional(),
  known_hosts: z.string({ error: 'expected a path to a known_hosts file' }).optional(),
});

const host = z
  .strictObject({
    id: id('host'),
    name: z.string({ error: 'expected a display name' }).optional(),
    ssh: ssh.optional(),
    ...hostFieldsOf(CAPABILITIES),
  })
  .superRefine((h, ctx) => {
    for (const c of CAPABILITIES) if ('hostCheck' in c) c.hostCheck(h, ctx);
    if (h.id.startsWith('service_')) {
      // Its device would be `outpost_<node>_service_<x>`: a watched service's (discovery/ids.ts).
      const message = `expected a host id not starting with "service_": the device outpost_<node>_${h.id} is kept for a service the agent watches (Home Assistant, Zigbee2MQTT)`;
      ctx.addIssue({ code: 'custom', path: ['id'], message, input: h.id });
    }
    if (h.ssh && !h.ssh.host_key && !h.ssh.known_hosts) {
      ctx.addIssue({
        code: 'custom',
        path: ['ssh', 'host_key'],
        message: 'expected host_key or known_hosts: an SSH host key is always pinned',
        input: undefined,
      });
    }
  });

/** The event journal (issue 5): events mirrored as JSON lines, see src/sinks/journal.ts. */
const journal = z.strictObject({
  enabled: z.boolean({ error: 'expected true or false' }).default(false),
  // Unset means `<data_dir>/journal`; resolved like data_dir (resolveJournalDir).
  dir: z
    .string({ error: 'expected a directory path' })
    .min(1, { error: 'expected a directory path' })
    .optional(),
});

/** `200/s`, `12000/m`, `64KiB/s` …: an amount per second, minute or hour, as per second. */
const RATE_PER: Record<string, number> = { s: 1, m: 60, h: 3600 };
function parseRate(v: number | string, amount: (s: string) => number | undefined) {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (v.trim() === 'unlimited') return 0;
  const m = /^(.+?)\s*\/\s*([smh])$/.exec(v.trim());
  const n = amount(m ? m[1]! : v.trim());
  return n === undefined ? undefined : n / RATE_PER[m ? m[2]! : 's']!;
}

/** A rate field (uplink pacing): per second after parsing; 0 or "unlimited" lifts it. */
const rate = (what: string, example: string, amount: (s: string) => number | undefined) => {
  const error = `expected ${what} such as "${example}" (per s, m or h), 0 or "unlimited"`;
  return z.union([z.number(), z.string()], { error }).transform((v, ctx) => {
    const r = parseRate(v, amount);
    if (r === undefined) {
      ctx.addIssue({ code: 'custom', message: error, input: v });
      return z.NEVER;
    }
    return r;
  });
};
const count = (s: string) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : undefined);

/** The uplink bridge (issue 4): events and optionally states to a central broker. */
const uplink = z.strictObject({
  url: brokerUrl('mqtts://central.example:8883'),
  ...clientLogin,
  client_id: z.string({ error: 'expected a client id' }).min(1).max(64).optional(),
  // Unset means `sites/<node.id>` (bridges/uplink/topic-map.ts); "" maps nothing.
  topic_prefix: z
    .string({ error: 'expected a topic prefix such as "sites/chelsty"' })
    .regex(/^(|[^/+#$\s][^+#\s]*)$/, {
      error: 'expected a topic prefix such as "sites/chelsty": no +, #, spaces or leading $',
    })
    .refine((p) => p === '' || !p.split('/').includes(''), {
      error: 'expected a topic prefix without empty levels, leading or trailing /',
    })
    .optional(),
  max_rate: rate('messages per second', '200/s', count).prefault('200/s'),
  max_bytes_rate: rate('bytes per second', '64KiB/s', (s) => parseSize(s)).prefault('64KiB/s'),
  window: z
    .int({ error: 'expected a whole number of messages, 1 to 65535' })
    .min(1, { error: 'expected a whole number of messages, 1 to 65535' })
    .max(65535, { error: 'expected a whole number of messages, 1 to 65535' })
    .default(100),
  forward_states: z.boolean({ error: 'expected true or false' }).default(false),
});

/** A token bucket of commands (issue 13, point 5): 0 or "unlimited" as the rate lifts it. */
const commandBucket = (perMinute: number, burst: number) =>
  z
    .strictObject({
      rate: rate('commands', `${perMinute}/m`, count).prefault(`${perMinute}/m`),
      burst: wholeNumber('commands', 1).default(burst),
    })
    .prefault({});

/** Remediation policy (issue 6): the first rule matching action and target decides. */
const policyTargetError = 'expected a target glob such as "local/*", "nas/radarr" or "*"';
const policyRule = z
  .strictObject({
    action: z.enum([...COMMAND_ACTIONS, '*'], {
      error: `expected one of ${COMMAND_ACTIONS.join(', ')} or *`,
    }),
    target: z
      .string({ error: policyTargetError })
      .min(1, { error: policyTargetError })
      .max(200, { error: 'expected a target glob of at most 200 characters' })
      .regex(/^[a-zA-Z0-9_.*?/-]+$/, { error: policyTargetError })
      .default('*'),
    decision: z.enum(['allow', 'deny', 'approve'], { error: 'expected allow, deny or approve' }),
    self_heal: z
      .enum(['off', 'ask', 'auto'], { error: 'expected off, ask or auto' })
      .default('off'),
    /** The requester may approve its own request (a one-person site). */
    self_approve: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .superRefine((r, ctx) => {
    // approve / reject act on a pending action: its own rule already said a human decides;
    // select only chooses one of them, for approvers.
    if (r.action === 'approve' || r.action === 'reject' || r.action === 'select') {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: `expected an action the policy decides: ${r.action} is allowed for every pending action`,
        input: r.action,
      });
    }
    if (
      r.decision === 'approve' &&
      (r.action === 'silence' || r.action === 'maintenance' || r.action === 'ack')
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['decision'],
        message: `expected allow or deny: ${r.action} takes effect at once, it is never held for approval`,
        input: r.decision,
      });
    }
    if (r.self_heal !== 'off' && r.action !== 'restart_container' && r.action !== '*') {
      ctx.addIssue({
        code: 'custom',
        path: ['self_heal'],
        message: 'expected off: self-healing only restarts containers (action restart_container)',
        input: r.self_heal,
      });
    }
  });

/** Budgets, backoff and timeouts of remediation (issue 6), see src/commands/. */
const approverError =
  'expected a user name of the embedded broker, "telegram:<user id>" or "ha:<user id>"';
const remediation = z.strictObject({
  /**
   * Who may approve or reject a held action: identities taken from the channel (the
   * embedded broker's user name), never from a payload. Anonymous can never approve.
   */
  approvers: z
    .array(
      z
        .string({ error: approverError })
        .min(1, { error: approverError })
        .refine((u) => u !== 'anonymous', {
          error: 'expected a named user: anonymous can never approve',
        })
        .refine((u) => !/^(telegram|ha):/.test(u) || /^(telegram:\d+|ha:[0-9a-zA-Z]+)$/.test(u), {
          error:
            'expected "telegram:" and a numeric Telegram user id, or "ha:" and a Home Assistant user id',
        }),
      { error: 'expected a list of user names' },
    )
    .default([]),
  /**
   * Whether anonymous logins on the embedded broker may command (issue 13, point 8): off,
   * so a LAN client without credentials can read states but not restart or approve.
   */
  anonymous_commands: z.boolean({ error: 'expected true or false' }).default(false),
  approval_timeout: duration('30m').prefault('30m'),
  action_timeout: duration('60s').prefault('60s'),
  verify_timeout: duration('30s').prefault('30s'),
  restarts: z
    .strictObject({
      max: wholeNumber('restarts', 1).default(3),
      window: duration('30m').prefault('30m'),
      reset_after: duration('10m').prefault('10m'),
    })
    .prefault({}),
  backoff: z
    .strictObject({
      initial: duration('10s').prefault('10s'),
      max: duration('5m').prefault('5m'),
    })
    .prefault({}),
  grace: duration('2m').prefault('2m'),
  flapping: z
    .strictObject({
      changes: wholeNumber('state changes', 2).default(5),
      window: duration('10m').prefault('10m'),
    })
    .prefault({}),
  quiet_after_restart: duration('5m').prefault('5m'),
  // How long Home Assistant's "Alerts silenced" switch silences a host: a silence command
  // takes 1s to 30d (src/commands/payloads.ts).
  silence_for: duration('1h', '30d')
    .prefault('1h')
    .check((c) => {
      if (c.value >= 1000) return;
      c.issues.push({ code: 'custom', message: 'expected at least 1s', input: `${c.value}ms` });
    }),
  keep_finished: duration('7d').prefault('7d'),
  /** Bounds of `<data_dir>/audit.jsonl` (issue 13, point 5): see src/commands/audit.ts. */
  audit: z
    .strictObject({
      max_bytes: size('10MiB')
        .prefault('10MiB')
        .refine((n) => n >= 4096, { error: 'expected a size of 4KiB or more' }),
      keep: wholeNumber('rotated files', 1).default(5),
      max_age: duration('90d').prefault('90d'),
    })
    .prefault({}),
  /** Floods of commands (issue 13, point 5): see src/commands/rate-limit/. */
  rate_limit: z
    .strictObject({
      client: commandBucket(60, 30),
      user: commandBucket(240, 120),
      quiet: duration('10s').prefault('10s'),
    })
    .prefault({}),
});

const http = z
  .strictObject({
    enabled: z.boolean({ error: 'expected true or false' }).default(false),
    listen: listen('127.0.0.1:8099').prefault('127.0.0.1:8099'),
    ...statusPageFields,
  })
  .superRefine(checkStatusPage);

export const configSchema = z
  .strictObject({
    node: z
      .strictObject({
        id: id('node').optional(),
        name: z.string({ error: 'expected a display name' }).optional(),
      })
      .prefault({}),
    data_dir: z.string({ error: 'expected a directory path' }).min(1).default('./data'),
    log: z.strictObject({ level: logLevel.default('info') }).prefault({}),
    broker: broker.prefault({}),
    mqtt: mqtt.prefault({}),
    discovery: discovery.prefault({}),
    store: store.prefault({}),
    hosts: z.array(host, { error: 'expected a list of hosts' }).prefault([{ id: 'local' }]),
    ...sectionsOf(CAPABILITIES),
    http: http.prefault({}),
    uplink: uplink.optional(),
    journal: journal.prefault({}),
    policy: z.array(policyRule, { error: 'expected a list of policy rules' }).default([]),
    remediation: remediation.prefault({}),
  })
  .superRefine((c, ctx) => {
    requireUnique(ctx, c.hosts, { path: ['hosts'], field: 'id', what: 'host id' });
    for (const cap of CAPABILITIES) if ('check' in cap) cap.check(c, ctx);
    checkWebApprovers(c, ctx);
    checkLoginApprovers(c, ctx);
    if (c.remediation.approvers.length > 0) return;
    // A rule that holds actions for approval needs someone who may give it.
    c.policy.forEach((r, i) => {
      const key =
        r.decision === 'approve' ? 'decision' : r.self_heal === 'ask' ? 'self_heal' : undefined;
      if (!key) return;
      ctx.addIssue({
        code: 'custom',
        path: ['policy', i, key],
        message:
          'expected remediation.approvers to name who may approve: with none, nothing held for approval could ever run',
        input: r[key],
      });
    });
  })
  .transform((c) => {
    const nodeId = c.node.id ?? slugifyId(hostname());
    return { ...c, node: { id: nodeId, name: c.node.name ?? nodeId } };
  });

/** The configuration as the schema's input (what the YAML holds). */
export type ConfigInput = z.input<typeof configSchema>;
/** The loaded, validated, defaulted configuration. */
export type Config = z.output<typeof configSchema>;
export type HostConfig = Config['hosts'][number];
export type BrokerConfig = Config['broker'];
export type MqttConfig = Config['mqtt'];
export type DiscoveryConfigSection = Config['discovery'];
export type EngineConfig = NonNullable<HostConfig['engine']>;
export type ContainersConfig = Config['containers'];
export type HttpConfig = Config['http'];
export type UplinkConfig = NonNullable<Config['uplink']>;
export type JournalConfig = Config['journal'];
export type PolicyRuleConfig = Config['policy'][number];
export type RemediationConfig = Config['remediation'];
export type WatchdogConfig = NonNullable<Config['watchdog']>;
export type WatchdogCheckConfig = WatchdogConfig['checks'][number];
export type DisksConfig = NonNullable<Config['disks']>;
export type HomeAssistantSection = NonNullable<Config['home_assistant']>;
export type BackupsConfig = NonNullable<Config['backups']>;
