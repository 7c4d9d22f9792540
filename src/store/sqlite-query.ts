import { severityRank } from '../core/events.js';
import type { EventQuery } from './event-store.js';
import { EVENT_COLUMNS } from './sqlite-rows.js';
import { toMs } from './sqlite-writes.js';

export const DEFAULT_QUERY_LIMIT = 1000;

export interface BuiltQuery {
  sql: string;
  params: (number | string)[];
}

/** The SQL for an EventQuery; throws a RangeError naming a bad field. */
export function buildQuery(q: EventQuery): BuiltQuery {
  const where: string[] = [];
  const params: (number | string)[] = [];
  const time = (field: 'since' | 'until', op: string) => {
    const v = q[field];
    if (v === undefined) return;
    const ms = toMs(v);
    if (Number.isNaN(ms)) throw new RangeError(`${field} ${JSON.stringify(v)}: expected a time`);
    where.push(`ts ${op} ?`);
    params.push(ms);
  };
  time('since', '>=');
  time('until', '<');
  if (q.type !== undefined) {
    const types: readonly string[] = typeof q.type === 'string' ? [q.type] : q.type;
    if (types.length === 0) throw new RangeError('type: expected at least one event type');
    where.push(`type IN (${types.map(() => '?').join(', ')})`);
    params.push(...types);
  }
  if (q.severity !== undefined) {
    const rank = severityRank(q.severity);
    if (rank < 0) throw new RangeError(`severity ${JSON.stringify(q.severity)}: unknown`);
    where.push('sev >= ?');
    params.push(rank);
  }
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`limit ${limit}: expected a positive integer`);
  }
  const order = q.order === 'desc' ? 'DESC' : 'ASC';
  const sql =
    `SELECT ${EVENT_COLUMNS} FROM events` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY seq ${order} LIMIT ?`;
  params.push(limit);
  return { sql, params };
}
