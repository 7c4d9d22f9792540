import { z } from 'zod';
import type { CapabilityConfig } from '../../config/capability-config.js';
import { argv, duration, hostPort, id, requireUnique, wholeNumber } from '../../config/units.js';

/** The health-gated watchdog (issue 4): checks, the uplink gate, the hardware watchdog. */
const CHECK_KINDS = ['tcp', 'http', 'command'] as const;
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
      message:
        kinds.length === 0
          ? 'expected exactly one of tcp, http or command'
          : `expected exactly one of tcp, http or command, not ${kinds.join(' and ')}`,
      input: kinds.length === 0 ? c : c[kinds[1]!],
    });
  });

const section = z
  .strictObject({
    interval: duration('30s').prefault('30s'),
    checks: z.array(watchdogCheck, { error: 'expected a list of checks' }).default([]),
    device: z
      .strictObject({
        path: z
          .string({ error: 'expected a path to the watchdog device such as "/dev/watchdog"' })
          .min(1, { error: 'expected a path to the watchdog device such as "/dev/watchdog"' })
          .default('/dev/watchdog'),
        enabled: z.boolean({ error: 'expected true or false' }).default(false),
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
