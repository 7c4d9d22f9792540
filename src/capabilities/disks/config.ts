import { z } from 'zod';
import type { CapabilityConfig } from '../../config/capability-config.js';
import { argv, duration, id } from '../../config/units.js';

/**
 * The disks capability's config (issue #16): the `disks` section — which mounts, when a
 * level is raised and cleared, and how far back the growth rate looks. Present (even as
 * `disks: {}`), it watches the local machine's disks and every SSH host's.
 */

const MOUNT_GLOB = 'expected a mount point or glob such as "/", "/mnt/*" or "/srv/data"';
const mountGlob = z
  .string({ error: MOUNT_GLOB })
  .max(4096, { error: 'expected a mount point of at most 4096 characters' })
  .regex(/^\/[^\0]*$/, { error: MOUNT_GLOB });
const mountGlobs = z.array(mountGlob, { error: 'expected a list of mount points or globs' });

const percent = (what: string) => {
  const error = `expected ${what} as a percentage from 0 to 100, such as 85`;
  return z.number({ error }).min(0, { error }).max(100, { error });
};

/** Thresholds one mount may override. */
const levels = {
  warn: percent('the warning level'),
  critical: percent('the critical level'),
  hysteresis: percent('the hysteresis margin'),
};

const jobNames = z.array(id('cleanup job'), { error: 'expected a list of cleanup job ids' });

const override = z.strictObject({
  path: mountGlob,
  warn: levels.warn.optional(),
  critical: levels.critical.optional(),
  hysteresis: levels.hysteresis.optional(),
  // Which of the host's cleanup jobs free space on this mount; all of them when absent.
  cleanup: jobNames.optional(),
});

/** SMART (issue #16): where smartctl exists, locally or on an SSH host; absent is no error. */
const smart = z
  .strictObject({
    enabled: z.boolean({ error: 'expected true or false' }).default(true),
    poll_every: duration('30m').prefault('30m'),
    timeout: duration('60s').prefault('60s'),
    command: argv('the smartctl command', '[sudo, -n, smartctl]').default(['smartctl']),
    stable_after: duration('24h').prefault('24h'),
  })
  .prefault({});

const section = z
  .strictObject({
    poll_every: duration('60s').prefault('60s'),
    timeout: duration('15s').prefault('15s'),
    include: mountGlobs.optional(),
    exclude: mountGlobs.default([]),
    warn: levels.warn.default(85),
    critical: levels.critical.default(95),
    hysteresis: levels.hysteresis.default(2),
    window: duration('6h').prefault('6h'),
    fill_warn: duration('24h').prefault('24h'),
    mounts: z.array(override, { error: 'expected a list of per-mount thresholds' }).default([]),
    smart,
    cleanup_timeout: duration('10m').prefault('10m'),
    cleanup_on_critical: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .superRefine((d, ctx) => {
    orderProblems(d, [], ctx);
    d.mounts.forEach((m, i) => {
      orderProblems(
        {
          warn: m.warn ?? d.warn,
          critical: m.critical ?? d.critical,
          hysteresis: m.hysteresis ?? d.hysteresis,
        },
        ['mounts', i],
        ctx,
      );
    });
  });

/** warn below critical, and the margin below warn: otherwise a level could never clear. */
function orderProblems(
  l: { warn: number; critical: number; hysteresis: number },
  at: (string | number)[],
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  if (l.warn >= l.critical) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'warn'],
      message: `expected warn below critical (${l.critical})`,
      input: l.warn,
    });
  }
  if (l.hysteresis >= l.warn) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'hysteresis'],
      message: `expected a hysteresis margin below warn (${l.warn})`,
      input: l.hysteresis,
    });
  }
}

/**
 * Per host, its disk cleanup jobs by id, each a command as argv (`docker_images: [docker,
 * image, prune, -af]`): remediation runs them by id; nothing in a command payload becomes
 * a word of them.
 */
const host = {
  cleanup: z
    .record(id('cleanup job'), argv('a cleanup job', '[journalctl, --vacuum-size=200M]'), {
      error:
        'expected cleanup jobs by id (letters, digits, _ or -), each a list of words such as [docker, image, prune, -af]',
    })
    .optional(),
};

export const disksConfig = {
  key: 'disks',
  section: section.optional(),
  host,
  // A mount's cleanup names jobs of the hosts: a misspelt one would silently do nothing.
  check(config, ctx) {
    const c = config as unknown as {
      disks?: { mounts: { cleanup?: string[] }[] };
      hosts: { cleanup?: Record<string, unknown> }[];
    };
    if (!c.disks) return;
    const jobs = new Set(c.hosts.flatMap((h) => Object.keys(h.cleanup ?? {})));
    c.disks.mounts.forEach((m, i) => {
      m.cleanup?.forEach((job, j) => {
        if (jobs.has(job)) return;
        ctx.addIssue({
          code: 'custom',
          path: ['disks', 'mounts', i, 'cleanup', j],
          message: `expected the id of a cleanup job in hosts[].cleanup (${[...jobs].join(', ') || 'none defined'})`,
          input: job,
        });
      });
    });
  },
} satisfies CapabilityConfig<'disks', z.ZodOptional<typeof section>, typeof host>;
