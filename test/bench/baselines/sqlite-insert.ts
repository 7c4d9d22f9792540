import Database from 'better-sqlite3';
import { printResult } from '../baseline.js';
import { benchEvents, benchRows } from '../event-store-rows.js';

/**
 * The event-store-append bench's baseline, as a bare tool would write the same rows: plain
 * better-sqlite3 in a process of its own under plain node, WAL and synchronous=FULL, one
 * prepared INSERT, one transaction (one fsync) per wave. The rows are built before the
 * clock starts; only the inserts are timed.
 *
 * usage: node sqlite-insert.js WARM_DB DB EVENTS WAVE
 *   WARM_DB, DB  databases that already hold the store's schema (the bench opens a store
 *                there); the first takes a warm-up of the same rows, the second is timed.
 * Prints {"rowsPerSec": …, "secs": …}.
 */

const [warmDb, db, eventsArg, waveArg] = process.argv.slice(2);
const n = Number(eventsArg);
const wave = Number(waveArg);
if (!warmDb || !db || !Number.isSafeInteger(n) || !Number.isSafeInteger(wave) || wave < 1) {
  console.error('usage: sqlite-insert.js WARM_DB DB EVENTS WAVE');
  process.exit(2);
}

function open(path: string) {
  const conn = new Database(path);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = FULL');
  const insert = conn.prepare(
    'INSERT INTO events (seq, id, ts, node, type, sev, subject, data, size) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const write = conn.transaction((rows: readonly unknown[][], from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(...rows[i]!);
  });
  return { conn, write };
}

/** Seconds to insert `rows`, one transaction per wave. */
function insertAll(path: string, rows: readonly unknown[][]): number {
  const { conn, write } = open(path);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i += wave) write(rows, i, Math.min(i + wave, rows.length));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  conn.close();
  return secs;
}

const rows = benchRows(benchEvents(n));
insertAll(warmDb, rows.slice(0, Math.min(n, 10_000)));
const secs = insertAll(db, rows);
printResult({ rowsPerSec: n / secs, secs });
