import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../config/units.js';
import { toWireEvent, type StoredEvent } from '../core/events.js';
import type { EventQuery } from '../store/event-store.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../store/sqlite-store.js';
import { configOption, parse, UsageError, commandConfig } from './args.js';
import type { Io } from './io.js';
import { progress } from './progress.js';
import { severityFromName, SEVERITY_NAMES } from './severity-name.js';

export const help = `usage: outpost events [--since WHEN] [--until WHEN] [--type TYPE]... [--severity LEVEL]
                      [--limit N] [--json] [--config FILE]

Prints the events in this node's event store (<data_dir>/events.db), oldest first, as a
table (ts, severity, type, subject) or, with --json, one JSON line per event as published.
Safe while the agent runs: the store is opened read-only.

  --since WHEN      events at or after WHEN: a duration back from now (30m, 1h, 2d, 1h30m)
                    or an ISO 8601 time (2024-05-01, 2024-05-01T12:00:00Z)
  --until WHEN      events before WHEN, same forms
  --type TYPE       only this event type; repeat it or give a comma list for several
  --severity LEVEL  this severity or a graver one: ${SEVERITY_NAMES}
  --limit N         the newest N events at most (default 1000)
  --json            JSON lines instead of a table`;

const DEFAULT_LIMIT = 1000;

export async function events(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...configOption,
    since: { type: 'string' },
    until: { type: 'string' },
    type: { type: 'string', multiple: true },
    severity: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return (io.out(help), 0);
  const str = (key: string) => values[key] as string | undefined;
  const query = buildQuery(
    {
      since: str('since'),
      until: str('until'),
      // `multiple: true`: an array, which args.ts's Parsed type does not spell out.
      type: values.type as unknown as string[] | undefined,
      severity: str('severity'),
      limit: str('limit'),
    },
    Date.now(),
  );

  const config = commandConfig(values, io.env);
  const dbPath = join(config.data_dir, EVENTS_DB_FILE);
  if (!existsSync(dbPath)) {
    io.err(`no event store at ${dbPath} (has the agent run with this config?)`);
    return 1;
  }
  // Read-only: beside a running agent (WAL lets a reader in) this never writes, migrates,
  // maintains or moves a database it thinks damaged aside; the agent owns all of that.
  const store = SqliteEventStore.open({
    dataDir: config.data_dir,
    node: config.node.id,
    readonly: true,
  });
  const shown = progress(io, 'outpost events');
  let found: StoredEvent[];
  try {
    shown.step(`reading ${dbPath}`);
    // Newest first so --limit keeps the latest events, then printed oldest first.
    found = (await store.query({ ...query, order: 'desc' })).reverse();
  } finally {
    await store.close();
  }
  shown.step('printing', found.length);
  if (values.json) {
    found.forEach((e, i) => {
      io.out(JSON.stringify(toWireEvent(e)));
      shown.tick(i + 1);
    });
  } else {
    printTable(found, io, (n) => shown.tick(n));
  }
  shown.end();
  if (found.length === query.limit) {
    io.err(`(the newest ${query.limit} shown; --limit N or --since for others)`);
  }
  return 0;
}

interface EventsArgs {
  since?: string;
  until?: string;
  type?: string[];
  severity?: string;
  limit?: string;
}

/** The store query the options ask for; a UsageError (exit 2) names a bad value. */
export function buildQuery(args: EventsArgs, now: number): EventQuery & { limit: number } {
  const q: EventQuery & { limit: number } = { limit: DEFAULT_LIMIT };
  if (args.since !== undefined) q.since = parseWhen('--since', args.since, now);
  if (args.until !== undefined) q.until = parseWhen('--until', args.until, now);
  if (args.type !== undefined) {
    const types = args.type.flatMap((t) => t.split(',')).map((t) => t.trim());
    for (const t of types) {
      if (!/^[a-z][a-z0-9_]*$/.test(t)) {
        throw new UsageError(
          `--type ${JSON.stringify(t)}: expected a snake_case event type such as container_down`,
        );
      }
    }
    q.type = types;
  }
  if (args.severity !== undefined) {
    const severity = severityFromName(args.severity);
    if (severity === undefined) {
      throw new UsageError(
        `--severity ${JSON.stringify(args.severity)}: expected one of ${SEVERITY_NAMES}`,
      );
    }
    q.severity = severity;
  }
  if (args.limit !== undefined) {
    const n = /^\d+$/.test(args.limit) ? Number(args.limit) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`--limit ${JSON.stringify(args.limit)}: expected a positive integer`);
    }
    q.limit = n;
  }
  return q;
}

/** A duration back from `now` ("1h") or an ISO 8601 date or time; epoch ms. */
export function parseWhen(option: string, text: string, now: number): number {
  const ms = parseDuration(text);
  if (ms !== undefined) return now - ms;
  // Date.parse alone would take "1" or "May 1" too; only ISO 8601 is documented.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(
    `${option} ${JSON.stringify(text)}: expected a duration back from now such as 30m, 1h or 2d ` +
      `(units ms, s, m, h, d) or an ISO 8601 time such as 2024-05-01T12:00:00Z`,
  );
}

function printTable(found: readonly StoredEvent[], io: Io, printed: (n: number) => void): void {
  if (found.length === 0) {
    io.out('no events');
    return;
  }
  const rows = [
    ['TS', 'SEVERITY', 'TYPE', 'SUBJECT'],
    ...found.map((e) => [e.ts, e.severity, e.type, e.subject]),
  ];
  // The last column is not padded: no trailing blanks.
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  rows.forEach((r, n) => {
    io.out(r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
    printed(n);
  });
}
