import { join } from 'node:path';
import { AUDIT_FILE, readAudit, type AuditEntry, type AuditQuery } from '../commands/audit.js';
import { COMMAND_ACTIONS } from '../core/topics.js';
import { configOption, parse, UsageError, commandConfig } from './args.js';
import { parseWhen } from './events.js';
import type { Io } from './io.js';

export const help = `usage: outpost audit [--since WHEN] [--until WHEN] [--action ACTION]... [--target TARGET]
                     [--json] [--config FILE]

Prints the remediation audit log (<data_dir>/${AUDIT_FILE}), oldest first: every command
received, every policy decision, approval, rejection, expiry and result, with who asked
and the outcome. The agent only ever appends to the file; this only reads it.

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
  const { entries, damaged } = await readAudit(file, query);
  if (values.json) for (const e of entries) io.out(JSON.stringify(e));
  else printTable(entries, io);
  if (damaged > 0)
    io.err(`(${damaged} damaged line${damaged === 1 ? '' : 's'} skipped in ${file})`);
  return 0;
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
