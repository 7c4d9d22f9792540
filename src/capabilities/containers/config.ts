import { z } from 'zod';
import type { CapabilityConfig } from '../../config/capability-config.js';
import { argv, duration } from '../../config/units.js';

/**
 * The containers capability's config: the `containers` section (hysteresis, cooldown,
 * polling) and, on each host, how its engine is reached and which containers matter.
 */

const EVENTS_FILE =
  'expected the absolute path of podman\'s events file such as "/run/libpod/events/events.log"';

/** How the agent reaches a host's container engine (issue 5). */
const engine = z.strictObject({
  socket: z
    .string({ error: 'expected a path to the engine socket such as "/var/run/docker.sock"' })
    .min(1, { error: 'expected a path to the engine socket such as "/var/run/docker.sock"' })
    .optional(),
  url: z
    .string({ error: 'expected an engine API URL such as "tcp://127.0.0.1:2375"' })
    .regex(/^(tcp|http|https):\/\/[^\s/]+(:\d+)?\/?$/, {
      error: 'expected an engine API URL such as "tcp://127.0.0.1:2375" or "https://host:2376"',
    })
    .optional(),
  command: argv('the engine command', '[sudo, /usr/local/bin/docker]').optional(),
  // podman's events file on this machine, read as it grows (issue #15, docs/containers.md).
  events_file: z
    .string({ error: EVENTS_FILE })
    .refine((p) => p.startsWith('/') && !p.endsWith('/') && !p.includes('\0'), {
      error: EVENTS_FILE,
    })
    .optional(),
});

const containerPattern = z
  .string({ error: 'expected a container name or glob such as "media-*"' })
  .regex(/^[a-zA-Z0-9_.*?-]+$/, {
    error: 'expected a container name or glob such as "media-*" (letters, digits, _ . - * ?)',
  });
const containerPatterns = z.array(containerPattern, {
  error: 'expected a list of container names or globs',
});

const section = z
  .strictObject({
    down_after: duration('5m').prefault('5m'),
    cooldown: duration('30m').prefault('30m'),
    // Issue #14: a container is up again only once it stays up; a crash loop is one outage.
    stable_after: duration('2m').prefault('2m'),
    removed_grace: duration('1h').prefault('1h'),
    reconcile_every: duration('60s').prefault('60s'),
    poll_every: duration('30s').prefault('30s'),
    timeout: duration('15s').prefault('15s'),
  })
  .prefault({});

const host = {
  engine: engine.optional(),
  critical: containerPatterns.default([]),
  include: containerPatterns.optional(),
  exclude: containerPatterns.default([]),
};

/** Which engine settings fit where: socket/url for an API, command for a host over SSH. */
function engineProblems(h: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>): void {
  const e = h.engine as z.output<typeof engine> | undefined;
  if (!e) return;
  const viaSsh = h.ssh !== undefined;
  const issue = (key: 'socket' | 'url' | 'command' | 'events_file', message: string) =>
    ctx.addIssue({ code: 'custom', path: ['engine', key], message, input: e[key] });
  if (e.socket && e.url) issue('url', 'expected either socket or url, not both');
  if (viaSsh && e.socket) issue('socket', 'expected no socket on an SSH host (use command)');
  if (viaSsh && e.url) issue('url', 'expected no url on an SSH host (use command)');
  if (viaSsh && e.events_file) {
    issue('events_file', 'expected no events_file on an SSH host (a file on this machine)');
  }
  if (!viaSsh && e.command) {
    issue('command', 'expected no command on a host without ssh (use socket or url)');
  }
}

export const containersConfig = {
  key: 'containers',
  section,
  host,
  hostCheck: engineProblems,
} satisfies CapabilityConfig<'containers', typeof section, typeof host>;
