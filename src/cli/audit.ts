import { join } from 'node:path';
import { AUDIT_FILE, type AuditEntry } from '../commands/audit.js';
import { readAudit, type AuditQuery, type AuditRead } from '../commands/audit-read.js';
import { COMMAND_ACTIONS } from '../core/topics.js';
import { configOption, parse, UsageError, commandConfig } from './args.js';
import { parseWhen } from './events.js';
import type { Io } from './io.js';

export const help = `usage: outpost audit [--since WHEN] [--until WHEN] [--action ACTION]... [--target TARGET]
                     [--json] [--config FILE]

Prints the remediation audit log (<data_dir>/${AUDIT_FILE} and its rotated files
audit.<n>.jsonl, the highest number the oldest), oldest first: every command received,
every policy decision, approval, rejection, expiry and result, with who asked and the
outcome. The agent only ever appends to the files; this only reads them. Exits 1 when a
file could not be read, after printing what the others hold.

  --since WHEN      entries at or after WHEN: a duration back from now (30m, 1h, 2d)
                    or an ISO 8601 time (2024-05-01, 2024-05-01T12:00:00Z)
  --until WHEN      entries before WHEN, same forms
  --action ACTION   only this action (${COMMAND_ACTIONS.join(', ')});
                    repeat it or give a comma list for several
  --target TARGET   only this target, e.g. local/mosquitto
  --json            the JSON lines as written, instead of a table`;

export async function audit(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...configOption,
    since: { type: 'string' },
    until: { type: 'string' },
    action: { type: 'string', multiple: true },
    target: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return (io.out(help), 0);
  const query = buildAuditQuery(
    {
      since: values.since as string | undefined,
      until: values.until as string | undefined,
      // `multiple: true`: an array, which args.ts's Parsed type does not spell out.
      action: values.action as unknown as string[] | undefined,
      target: values.target as string | undefined,
    },
    Date.now(),
  );
  const config = commandConfig(values, io.env);
  const file = join(config.data_dir, AUDIT_FILE);
  const read = await readAudit(file, query);
  if (values.json) for (const e of read.entries) io.out(JSON.stringify(e));
  else printTable(read.entries, io);
  return reportFiles(read, io);
}

/** Damaged lines per file, and unreadable files with the ones that were read: exit 1. */
function reportFiles(read: AuditRead, io: Io): number {
  for (const f of read.files) {
    if (f.damaged > 0)
      io.err(`(${f.damaged} damaged line${f.damaged === 1 ? '' : 's'} skipped in ${f.path})`);
  }
  if (read.unreadable.length === 0) return 0;
  for (const u of read.unreadable) io.err(`could not read ${u.path}: ${u.error}`);
  const files = read.files.map((f) => f.path);
  io.err(`the entries above are from ${files.length > 0 ? files.join(', ') : 'no file'} only`);
  return 1;
}

interface AuditArgs {
  since?: string;
  until?: string;
  action?: string[];
  target?: string;
}

/** The query the options ask for; a UsageError (exit 2) names a bad value. */
export function buildAuditQuery(args: AuditArgs, now: number): AuditQuery {
  const q: AuditQuery = {};
  if (args.since !== undefined) q.since = parseWhen('--since', args.since, now);
  if (args.until !== undefined) q.until = parseWhen('--until', args.until, now);
  if (args.action !== undefined) {
    const actions = args.action.flatMap((a) => a.split(',')).map((a) => a.trim());
    for (const a of actions) {
      if (!(COMMAND_ACTIONS as readonly string[]).includes(a)) {
        throw new UsageError(
          `--action ${JSON.stringify(a)}: expected one of ${COMMAND_ACTIONS.join(', ')}`,
        );
      }
    }
    q.action = actions;
  }
  if (args.target !== undefined) q.target = args.target;
  return q;
}

function printTable(entries: readonly AuditEntry[], io: Io): void {
  if (entries.length === 0) {
    io.out('no audit entries');
    return;
  }
  const rows = [
    ['TS', 'KIND', 'WHO', 'ACTION', 'TARGET', 'OUTCOME', 'MESSAGE'],
    ...entries.map((e) => [
      e.ts,
      e.kind,
      e.who,
      e.action,
      e.target ?? '-',
      e.outcome,
      oneLine(e.message ?? ''),
    ]),
  ];
  // The last column is not padded: no trailing blanks.
  const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) {
    io.out(
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}
