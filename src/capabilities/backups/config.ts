import { createRequire } from 'node:module';
import type * as NodeCron from 'node-cron';
import { z } from 'zod';
import type { CapabilityConfig } from '../../config/capability-config.js';
import { argv, duration, id, requireUnique, size, wholeNumber } from '../../config/units.js';

/**
 * The backups capability's config (issue #17): the `backups` section. A job is one of
 * three kinds, told apart by its keys: with `command` the agent runs it (on `schedule`,
 * and on "Run now"); with `watch_path` it looks at the age of what a backup left behind;
 * with neither, something else runs it and reports (MQTT or an HTTP ping). Every kind has
 * `max_age`, the dead-man's switch.
 */

const CRON_EXAMPLE = 'expected a cron expression such as "0 3 * * *" (min hour day month weekday)';
// node-cron's own check: what it accepts here it can schedule (5 fields, or 6 with seconds).
// Loaded when a schedule is checked, not with the config schema: an agent without backups
// never holds node-cron (~1 MiB of heap; issue 15, idle RSS).
const require = createRequire(import.meta.url);
const validCron = (s: string): boolean => (require('node-cron') as typeof NodeCron).validate(s);
const schedule = z
  .string({ error: CRON_EXAMPLE })
  .refine((s) => validCron(s), { error: CRON_EXAMPLE });

const TZ_EXAMPLE = 'expected an IANA time zone such as "Europe/Paris" or "UTC"';
const timezone = z.string({ error: TZ_EXAMPLE }).refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: TZ_EXAMPLE },
);

const PATH_EXAMPLE = 'expected an absolute path such as "/backups/db.dump"';
const absolutePath = z
  .string({ error: PATH_EXAMPLE })
  .max(4096, { error: 'expected a path of at most 4096 characters' })
  .regex(/^\/[^\0]*$/, { error: PATH_EXAMPLE });

const SIZE_SOURCE = 'expected rsync_stats or { path: "/backups/db.dump" }';
const sizeSource = z.union(
  [z.literal('rsync_stats'), z.strictObject({ path: absolutePath }, { error: SIZE_SOURCE })],
  { error: SIZE_SOURCE },
);

const job = z
  .strictObject({
    name: id('backup job').max(64, { error: 'expected a backup job id of at most 64 characters' }),
    /** `local` (the agent's machine) or a host id from `hosts`; checked across sections. */
    host: z
      .string({ error: 'expected local or a host id from hosts' })
      .min(1, { error: 'expected local or a host id from hosts' })
      .default('local'),
    command: argv('the command', '[rsync, -a, --stats, /src, /dst]').optional(),
    schedule: schedule.optional(),
    timezone: timezone.optional(),
    timeout: duration('1h').prefault('1h'),
    max_age: duration('26h'),
    retries: wholeNumber('retries', 0).default(0),
    backoff: z
      .strictObject({
        initial: duration('1m').prefault('1m'),
        max: duration('30m').prefault('30m'),
      })
      .prefault({}),
    size: sizeSource.optional(),
    catch_up: z.boolean({ error: 'expected true or false' }).default(false),
    watch_path: absolutePath.optional(),
  })
  .superRefine((j, ctx) => {
    const needs = (key: keyof typeof j, what: string) => {
      if (j[key] === undefined || j[key] === false || j.command) return;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `expected ${what} only on a job with a command (the agent runs it)`,
        input: j[key],
      });
    };
    needs('schedule', 'a schedule');
    needs('size', 'a size source');
    needs('catch_up', 'catch_up');
    if (j.retries > 0) needs('retries', 'retries');
    if (j.command && j.watch_path !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['watch_path'],
        message: 'expected either command (a job the agent runs) or watch_path, not both',
        input: j.watch_path,
      });
    }
    if (j.catch_up && j.command && !j.schedule) {
      ctx.addIssue({
        code: 'custom',
        path: ['catch_up'],
        message: 'expected a schedule with catch_up: a missed run is a missed scheduled run',
        input: j.catch_up,
      });
    }
    if (j.timezone !== undefined && !j.schedule) {
      ctx.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: 'expected a schedule with timezone: it is the schedule’s time zone',
        input: j.timezone,
      });
    }
  });

const section = z
  .strictObject({
    /** How often the dead-man's switch looks, and passive jobs' paths are read. */
    check_every: duration('1m').prefault('1m'),
    /** stdout / stderr kept with each run: the last bytes of each. */
    tail: size('4KiB')
      .prefault('4KiB')
      .refine((n) => n >= 256 && n <= 1024 * 1024, {
        error: 'expected a size from 256 bytes to 1MiB',
      }),
    /** The token HTTP pings must carry: required when http.listen is not loopback. */
    ping_token: z
      .string({ error: 'expected a token (use ${VAR} to read it from the environment)' })
      .min(16, { error: 'expected a token of 16 characters or more' })
      .optional(),
    jobs: z.array(job, { error: 'expected a list of backup jobs' }).default([]),
  })
  .superRefine((b, ctx) =>
    requireUnique(ctx, b.jobs, { path: ['jobs'], field: 'name', what: 'backup job name' }),
  );

/** What the cross-section check reads of the whole config. */
interface Around {
  readonly hosts: readonly { readonly id: string }[];
  readonly http: { readonly enabled: boolean; readonly listen: { readonly host: string } };
  readonly backups?: z.output<typeof section>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const backupsConfig = {
  key: 'backups',
  section: section.optional(),
  check(config, ctx) {
    const c = config as unknown as Around;
    if (!c.backups) return;
    const hosts = new Set(c.hosts.map((h) => h.id));
    c.backups.jobs.forEach((j, i) => {
      if (j.host === 'local' || hosts.has(j.host)) return;
      ctx.addIssue({
        code: 'custom',
        path: ['backups', 'jobs', i, 'host'],
        message: `expected local or a host id from hosts (${[...hosts].join(', ')})`,
        input: j.host,
      });
    });
    // A ping records a backup's outcome: on a listener others can reach it needs a secret.
    if (c.http.enabled && !LOOPBACK.test(c.http.listen.host) && !c.backups.ping_token) {
      ctx.addIssue({
        code: 'custom',
        path: ['backups', 'ping_token'],
        message: `expected a ping token: http.listen (${c.http.listen.host}) is not loopback`,
        input: undefined,
      });
    }
  },
} satisfies CapabilityConfig<'backups', z.ZodOptional<typeof section>>;

export type BackupsSection = z.output<typeof section>;
export type BackupJobConfig = BackupsSection['jobs'][number];
