import { z } from 'zod';
import type { CapabilityConfig } from '../../config/capability-config.js';
import {
  argv,
  duration,
  host,
  hostPort,
  id,
  interfaceName,
  isHost,
  isIPAddress,
  parseHostPort,
  requireUnique,
  wholeNumber,
} from '../../config/units.js';

/** The health-gated watchdog (issue 4): checks, the uplink gate, the hardware watchdog. */
const CHECK_KINDS = ['tcp', 'http', 'command', 'route', 'link', 'ping', 'dns', 'mqtt'] as const;
const ONE_KIND = `expected exactly one of ${CHECK_KINDS.join(', ')}`;

/** `route`: a default route is present (through `interface`, when named). */
const routeCheck = z.strictObject(
  {
    interface: interfaceName('wwan0').optional(),
    family: z.enum(['any', 'ipv4', 'ipv6'], { error: 'expected any, ipv4 or ipv6' }).default('any'),
  },
  { error: 'expected a mapping such as {} or { interface: wwan0 }' },
);

/** `ping`: a host answers an ICMP echo, or with `host:port` accepts a TCP connection. */
const pingTarget = z
  .string({ error: 'expected a host such as "192.168.1.1", or host:port to ping over TCP' })
  .transform((s, ctx): { host: string; port?: number } => {
    const hp = parseHostPort(s);
    if (hp && isHost(hp.host)) return hp;
    if (isHost(s)) return { host: s };
    ctx.addIssue({
      code: 'custom',
      message:
        'expected an IP address or a host name such as "192.168.1.1", or host:port such as "192.168.1.1:53" to ping over TCP',
      input: s,
    });
    return z.NEVER;
  });

/** A DNS server as Node's resolver takes it: an IP address, with a port after it if not 53. */
const dnsServer = z
  .string({ error: 'expected a DNS server address such as "192.168.1.1" or "127.0.0.1:5353"' })
  .refine((s) => isIPAddress(s) || isIPAddress(parseHostPort(s)?.host ?? ''), {
    error: 'expected a DNS server IP address such as "192.168.1.1" or "127.0.0.1:5353"',
  });

/** `dns`: `name` resolves, through `servers` or the system's. */
const dnsCheck = z.strictObject(
  {
    name: host('example.com'),
    servers: z.array(dnsServer, { error: 'expected a list of DNS servers' }).min(1).optional(),
    type: z.enum(['A', 'AAAA'], { error: 'expected A or AAAA' }).default('A'),
  },
  { error: 'expected a mapping such as { name: example.com }' },
);

/** `mqtt`: the broker answers a CONNECT with a CONNACK that accepts it. */
const mqttCheck = z.strictObject(
  {
    url: z
      .string({ error: 'expected a broker URL such as "mqtt://127.0.0.1:1883"' })
      .regex(/^mqtts?:\/\/[^\s/]+\/?$/, {
        error: 'expected a broker URL such as "mqtt://127.0.0.1:1883" or "mqtts://host:8883"',
      }),
    username: z.string({ error: 'expected a user name' }).optional(),
    password: z
      .string({ error: 'expected a password (use ${VAR} to read it from the environment)' })
      .optional(),
    // Flat rather than a client_tls section: the check always verifies the broker's
    // certificate (against ca_file, else the system's CAs).
    ca_file: z.string({ error: 'expected a path to a PEM CA bundle' }).optional(),
    cert_file: z.string({ error: 'expected a path to a PEM client certificate' }).optional(),
    key_file: z.string({ error: 'expected a path to a PEM client key' }).optional(),
    protocol: z.enum(['3.1.1', '5'], { error: 'expected "3.1.1" or "5"' }).default('3.1.1'),
  },
  { error: 'expected a mapping such as { url: "mqtt://127.0.0.1:1883" }' },
);

const watchdogCheck = z
  .strictObject({
    id: id('check'),
    tcp: hostPort('127.0.0.1:22').optional(),
    http: z
      .string({ error: 'expected an http(s) URL such as "http://127.0.0.1:8123/"' })
      .refine((u) => /^https?:\/\/[^\s/]+/.test(u) && URL.canParse(u), {
        error: 'expected an http(s) URL such as "http://127.0.0.1:8123/"',
      })
      .optional(),
    command: argv('the command', '[systemctl, is-active, sshd]').optional(),
    route: routeCheck.optional(),
    link: interfaceName('eth0').optional(),
    ping: pingTarget.optional(),
    dns: dnsCheck.optional(),
    mqtt: mqttCheck.optional(),
    class: z
      .enum(['local', 'uplink'], {
        error: 'expected local (counts toward healthy) or uplink (gates the uplink)',
      })
      .default('local'),
    timeout: duration('5s').prefault('5s'),
    fail_after: wholeNumber('consecutive failures', 1).default(2),
  })
  .superRefine((c, ctx) => {
    const kinds = CHECK_KINDS.filter((k) => c[k] !== undefined);
    if (kinds.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      path: kinds.length === 0 ? [] : [kinds[1]!],
      message: kinds.length === 0 ? ONE_KIND : `${ONE_KIND}, not ${kinds.join(' and ')}`,
      input: kinds.length === 0 ? c : c[kinds[1]!],
    });
  });

const section = z
  .strictObject({
    interval: duration('30s').prefault('30s'),
    // After start the device is petted whatever the checks say: services come up slowly.
    grace: duration('5m').prefault('5m'),
    // How long local checks may stay down before the petting stops (an sshd restart is not
    // a reason to reboot).
    max_unhealthy: duration('3m').prefault('3m'),
    checks: z.array(watchdogCheck, { error: 'expected a list of checks' }).default([]),
    device: z
      .strictObject({
        path: z
          .string({ error: 'expected a path to the watchdog device such as "/dev/watchdog"' })
          .min(1, { error: 'expected a path to the watchdog device such as "/dev/watchdog"' })
          .default('/dev/watchdog'),
        enabled: z.boolean({ error: 'expected true or false' }).default(false),
        // The hardware's own timeout, for "will reset in ~N s"; read from sysfs when absent.
        timeout: duration('60s').optional(),
      })
      .prefault({}),
  })
  .superRefine((w, ctx) =>
    requireUnique(ctx, w.checks, { path: ['checks'], field: 'id', what: 'check id' }),
  );

export const watchdogConfig = {
  key: 'watchdog',
  section: section.optional(),
} satisfies CapabilityConfig<'watchdog', z.ZodOptional<typeof section>>;
