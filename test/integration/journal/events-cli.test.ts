import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/dispatch.js';
import { toWireEvent, type StoredEvent } from '../../../src/core/events.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} },
  };
}

describe('outpost events', () => {
  let dir: string;
  let config: string;
  let agent: SqliteEventStore;
  let stored: StoredEvent[];
  const MIN = 60_000;

  beforeEach(async () => {
    dir = await makeTempDir('events-cli');
    config = join(dir, 'config.yaml');
    writeFileSync(config, 'node: { id: edge }\ndata_dir: ./state\n');
    // The "running agent": a writable store that stays open while the command reads.
    agent = SqliteEventStore.open({ dataDir: join(dir, 'state'), node: 'edge' });
    const now = Date.now();
    stored = await agent.appendMany([
      { type: 'container_down', severity: 'warning', subject: 'local/old', ts: now - 120 * MIN },
      { type: 'container_down', severity: 'critical', subject: 'local/db', ts: now - 30 * MIN },
      { type: 'disk_pressure', severity: 'warning', subject: 'local:/srv', ts: now - 20 * MIN },
      { type: 'backup_failed', severity: 'error', subject: 'nas/daily', ts: now - 10 * MIN },
      { type: 'container_recovered', severity: 'info', subject: 'local/db', ts: now - MIN },
    ]);
  });
  afterEach(async () => {
    await agent.close();
    await removeTempDir(dir);
  });

  it('prints a table of the events since a duration ago, oldest first', async () => {
    const c = capture();
    expect(await main(['events', '--config', config, '--since', '1h'], c.io)).toBe(0);
    const [, db, disk, backup, recovered] = stored;
    const w = Math.max('SEVERITY'.length, 'critical'.length);
    expect(c.out).toEqual([
      `${'TS'.padEnd(24)}  ${'SEVERITY'.padEnd(w)}  ${'TYPE'.padEnd(19)}  SUBJECT`,
      `${db!.ts}  critical  container_down       local/db`,
      `${disk!.ts}  warning   disk_pressure        local:/srv`,
      `${backup!.ts}  error     backup_failed        nas/daily`,
      `${recovered!.ts}  info      container_recovered  local/db`,
    ]);
    expect(c.err).toEqual([]);
  });

  it('filters by --type (repeated or a comma list) and --severity, and prints JSON lines', async () => {
    let c = capture();
    const argv = ['events', '-c', config, '--type', 'container_down,backup_failed', '--json'];
    expect(await main(argv, c.io)).toBe(0);
    expect(c.out).toEqual(
      [stored[0]!, stored[1]!, stored[3]!].map((e) => JSON.stringify(toWireEvent(e))),
    );

    c = capture();
    const repeated = [
      'events',
      '-c',
      config,
      '--type',
      'container_down',
      '--type',
      'disk_pressure',
    ];
    expect(
      await main([...repeated, '--severity', 'warning', '--since', '1h', '--json'], c.io),
    ).toBe(0);
    expect(c.out.map((l) => (JSON.parse(l) as StoredEvent).subject)).toEqual([
      'local/db',
      'local:/srv',
    ]);
  });

  it('takes log level names for --severity (warn is warning, fatal critical), and names what it takes', async () => {
    const run = async (level: string) => {
      const c = capture();
      expect(await main(['events', '-c', config, '--severity', level, '--json'], c.io)).toBe(0);
      return c.out.map((l) => (JSON.parse(l) as StoredEvent).severity);
    };
    expect(await run('warn')).toEqual(await run('warning'));
    expect(await run('warn')).toEqual(['warning', 'critical', 'warning', 'error']);
    expect(await run('fatal')).toEqual(['critical']);
    expect(await run('WARN')).toEqual(await run('warning'));
    const c = capture();
    expect(await main(['events', '-c', config, '--severity', 'loud'], c.io)).toBe(2);
    expect(c.err[0]).toBe(
      'outpost events: --severity "loud": expected one of debug, info, warning, error, critical (or the log levels trace, warn, fatal)',
    );
  });

  it('shows progress on a terminal over a large store, on stderr only, and nothing when stderr is not one', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({
      type: 'container_down',
      severity: 'warning' as const,
      subject: `local/c${i}`,
    }));
    await agent.appendMany(many);
    const drawn: string[] = [];
    const c = capture();
    // The first draw waits a second: a slow terminal is what this stands in for.
    let slow = true;
    const io = {
      ...c.io,
      out: (l: string) => {
        c.out.push(l);
        if (slow && c.out.length === 10) {
          const until = Date.now() + 1100;
          while (Date.now() < until) {
            // a terminal that takes a second to scroll (progress waits a second to draw)
          }
          slow = false;
        }
      },
      tty: { write: (t: string) => drawn.push(t) },
    };
    expect(await main(['events', '-c', config, '--limit', '30000', '--json'], io)).toBe(0);
    expect(c.out).toHaveLength(stored.length + many.length);
    expect(drawn.length).toBeGreaterThan(1);
    const CLEAR = '\r\x1b[K'; // carriage return, erase to the end of the line
    for (const d of drawn.slice(0, -1)) {
      expect(d.startsWith(CLEAR), JSON.stringify(d)).toBe(true);
      expect(d.slice(CLEAR.length)).toMatch(/^outpost events: printing \d+\/20005 \(\d+s\)$/);
    }
    expect(drawn.at(-1)).toBe('\r\x1b[K');
    // Nothing of it on stdout or in stderr's lines.
    expect(c.out.some((l) => l.includes('\x1b'))).toBe(false);
    expect(c.err).toEqual([]);

    const plain = capture();
    expect(await main(['events', '-c', config, '--limit', '30000', '--json'], plain.io)).toBe(0);
    expect(plain.err).toEqual([]);
  });

  it('keeps the newest --limit events and says more were left out', async () => {
    const c = capture();
    expect(await main(['events', '-c', config, '--limit', '2', '--json'], c.io)).toBe(0);
    expect(c.out.map((l) => (JSON.parse(l) as StoredEvent).id)).toEqual(
      stored.slice(-2).map((e) => e.id),
    );
    expect(c.err).toEqual(['(the newest 2 shown; --limit N or --since for others)']);
  });

  it('exits 2 on a bad --since, naming the value and the expected forms', async () => {
    const c = capture();
    expect(await main(['events', '-c', config, '--since', '1 hour'], c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err[0]).toBe(
      'outpost events: --since "1 hour": expected a duration back from now such as 30m, 1h or 2d (units ms, s, m, h, d) or an ISO 8601 time such as 2024-05-01T12:00:00Z',
    );
    expect(c.err[1]).toMatch(/^usage: outpost events/);
  });

  it('says so when there is no store, and creates none', async () => {
    writeFileSync(config, 'node: { id: edge }\ndata_dir: ./elsewhere\n');
    const c = capture();
    expect(await main(['events', '-c', config], c.io)).toBe(1);
    expect(c.err).toEqual([
      `no event store at ${join(dir, 'elsewhere', 'events.db')} (has the agent run with this config?)`,
    ]);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
  });

  it('reads beside the running agent without getting in its way', async () => {
    const c = capture();
    expect(await main(['events', '-c', config, '--since', '2026-01-01', '--json'], c.io)).toBe(0);
    expect(c.out).toHaveLength(stored.length);
    // The agent goes on writing and acking; the reader left no cursor behind.
    const next = await agent.append({ type: 'disk_recovered', severity: 'info', subject: 'x' });
    expect(next.seq).toBe(stored.length + 1);
    expect(await agent.sinks()).toEqual([]);
  });

  it('prints its help', async () => {
    const c = capture();
    expect(await main(['events', '--help'], c.io)).toBe(0);
    expect(c.out[0]).toMatch(/^usage: outpost events \[--since WHEN\]/);
  });
});
