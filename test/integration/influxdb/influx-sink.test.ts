import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../../bridges/influxdb/influx-sink.js';
import { lineWriter } from '../../../bridges/influxdb/client.js';
import { refusalAlert } from '../../../bridges/influxdb/refusal-alert.js';
import { sampleEvent } from '../../../bridges/influxdb/sample.js';
import { systemClock } from '../../../src/core/clock.js';
import type { NewEvent } from '../../../src/core/events.js';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { eventually } from '../../helpers/eventually.js';
import { startInfluxd, type InfluxdServer } from '../../helpers/influxd.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { clientFor, column, sectionFor, sinkFor } from './history.js';

/**
 * The InfluxDB history against a real influxd 1.6 (issue 19, point 3): what the store
 * holds lands once, an outage of the server holds it on disk, and points InfluxDB refuses
 * are set aside while the rest go on.
 */
describe('InfluxDB sink', () => {
  let server: InfluxdServer;
  let dir: string | undefined;
  let store: SqliteEventStore | undefined;
  let sink: InfluxSink | undefined;

  beforeAll(async () => {
    server = await startInfluxd();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await sink?.stop();
    await store?.close();
    if (dir) await removeTempDir(dir);
    sink = store = dir = undefined;
    await server.up(); // a test that failed mid-outage leaves it running for the next
  });

  const T0 = Date.UTC(2026, 5, 1, 12);
  const down = (i: number): NewEvent => ({
    type: 'container_down',
    severity: 'warning',
    subject: `nas/app-${i % 7}`,
    ts: T0 + i * 1000,
    data: { host: 'nas', container: `app-${i % 7}`, title: 'down', message: `app ${i} down` },
  });

  async function openStore(): Promise<SqliteEventStore> {
    dir = await makeTempDir('influx-sink');
    store = SqliteEventStore.open({ dataDir: join(dir, 'data'), node: 'edge' });
    return store;
  }

  it('writes every event once, holds them on disk through an outage, and catches up', async () => {
    const db = 'history';
    const influx = clientFor(server, db);
    const s = await openStore();
    const first = await s.appendMany(Array.from({ length: 230 }, (_, i) => down(i)));
    const { log, lines } = memoryLogger();
    sink = sinkFor(s, server, influx, db, log);
    await sink.start();
    // The database did not exist: the sink asked influxd to create it, then wrote.
    await eventually(() => expect(sink!.delivered).toBe(first.at(-1)!.seq), { timeout: 60_000 });
    expect(lines.some((l) => l.msg === 'InfluxDB database created')).toBe(true);

    await server.down();
    const during = await s.appendMany(Array.from({ length: 170 }, (_, i) => down(230 + i)));
    await eventually(() => expect(sink!.report().runner.failures).toBeGreaterThan(0));
    // Nothing the server did not take is behind the cursor.
    expect(sink.delivered).toBeLessThan(during.at(-1)!.seq);
    expect(await s.cursor('influxdb')).toBeLessThanOrEqual(first.at(-1)!.seq);

    await server.up();
    await eventually(() => expect(sink!.delivered).toBe(during.at(-1)!.seq), { timeout: 60_000 });
    await eventually(async () => expect(await s.cursor('influxdb')).toBe(during.at(-1)!.seq));

    const ids = await column(influx, 'SELECT "id", "message" FROM "events"', 'id');
    const stored = [...first, ...during].map((e) => e.id);
    expect(ids).toEqual(stored); // time order is store order here: exactly once each
    const hosts = await column(
      influx,
      'SELECT count("count") FROM "events" GROUP BY "host"',
      'count',
    );
    expect(hosts).toEqual([400]);
  });

  it('writes backups, samples and tags as the mapping says', async () => {
    const db = 'mapping';
    const influx = clientFor(server, db);
    await influx.createDatabase(db);
    const s = await openStore();
    const root = { base: 'outpost', node: 'edge' };
    const sample = sampleEvent(
      root,
      ['nas'],
      [
        {
          topic: 'outpost/edge/hosts/nas/containers/radarr',
          payload: JSON.stringify({
            name: 'radarr',
            state: 'running',
            health: 'healthy',
            restart_count: 3,
          }),
        },
        {
          topic: 'outpost/edge/hosts/nas/disks/root',
          payload: JSON.stringify({
            mount: '/',
            size: 100,
            used: 40,
            free: 60,
            used_pct: 40,
            level: 'ok',
          }),
        },
        {
          topic: 'outpost/edge/watchdog',
          payload: JSON.stringify({
            healthy: true,
            checks: { ssh: { ok: true, class: 'local', latency_ms: 4, failures: 0, down: false } },
          }),
        },
      ],
      T0,
    )!;
    await s.appendMany([
      sample,
      {
        type: 'backup_succeeded',
        severity: 'info',
        subject: 'backup/photos',
        ts: T0 + 1,
        data: { job: 'photos', duration_s: 42, size_bytes: 1024 },
      },
      {
        type: 'backup_failed',
        severity: 'error',
        subject: 'backup/photos',
        ts: T0 + 2,
        data: { job: 'photos' },
      },
    ]);
    sink = sinkFor(s, server, influx, db, memoryLogger().log);
    await sink.start();
    await eventually(() => expect(sink!.delivered).toBe(3));

    const rows = async (q: string) => [...((await influx.query(q)) as Record<string, unknown>[])];
    expect(
      await rows('SELECT restarts, "state", running FROM containers WHERE host = \'nas\''),
    ).toMatchObject([{ restarts: 3, state: 'running', running: true }]);
    expect(
      await rows("SELECT used_pct FROM disks WHERE mount = '/' AND node = 'edge'"),
    ).toMatchObject([{ used_pct: 40 }]);
    expect(
      await rows('SELECT latency_ms, up FROM watchdog_checks WHERE "check" = \'ssh\''),
    ).toMatchObject([{ latency_ms: 4, up: true }]);
    expect(
      await rows("SELECT result, duration_s, size_bytes FROM backups WHERE job = 'photos'"),
    ).toMatchObject([
      { result: 'succeeded', duration_s: 42, size_bytes: 1024 },
      { result: 'failed', duration_s: null, size_bytes: null },
    ]);
  });

  it('sets aside the points InfluxDB refuses and writes the rest', async () => {
    const db = 'conflict';
    const influx = clientFor(server, db);
    await influx.createDatabase(db);
    // `duration_s` already holds strings in the shard the events go to (types are per shard):
    // a number there is a field type conflict, and influxd answers 400 "partial write".
    await influx.writePoints(
      [
        {
          measurement: 'backups',
          tags: { job: 'old' },
          fields: { duration_s: 'long' },
          timestamp: new Date(T0 - 1),
        },
      ],
      {
        database: db,
      },
    );
    const s = await openStore();
    const events: NewEvent[] = Array.from({ length: 40 }, (_, i) =>
      i % 10 === 3
        ? {
            type: 'backup_succeeded',
            severity: 'info',
            subject: `backup/job-${i}`,
            ts: T0 + i * 1000,
            data: { job: `job-${i}`, duration_s: i },
          }
        : down(i),
    );
    const stored = await s.appendMany(events);
    const { log, lines } = memoryLogger();
    const alerts: NewEvent[] = [];
    sink = sinkFor(
      s,
      server,
      influx,
      db,
      log,
      16,
      refusalAlert((e) => alerts.push(e), systemClock),
    );
    await sink.start();
    await eventually(() => expect(sink!.delivered).toBe(stored.at(-1)!.seq));

    const report = sink.report();
    expect(report.set_aside).toBe(4);
    expect(report.recent_set_aside.map((p) => p.tags.job)).toEqual([
      'job-3',
      'job-13',
      'job-23',
      'job-33',
    ]);
    expect(report.recent_set_aside[0]!.reason).toMatch(/field type conflict/);
    const refused = lines.filter((l) => l.msg.startsWith('InfluxDB refused a point'));
    expect(refused.map((l) => (l.tags as { job: string }).job)).toEqual([
      'job-3',
      'job-13',
      'job-23',
      'job-33',
    ]);
    // Every event's own point landed, the refused backups' included, each once.
    expect(await column(influx, 'SELECT "id", "count" FROM events', 'id')).toEqual(
      stored.map((e) => e.id),
    );
    expect(await column(influx, 'SELECT duration_s FROM backups', 'duration_s')).toEqual(['long']);
    // The site hears of it once, not once per point.
    expect(alerts.map((e) => [e.type, e.severity, e.data?.refused])).toEqual([
      ['influxdb_points_refused', 'warning', 1],
    ]);
  });

  // Its waits allow 60 s each (influxd stopped and started again on a busy machine): the
  // test's own limit must hold them, not vitest's default 30 s.
  it(
    'keeps two requests in flight through an outage: every point once, in order',
    { timeout: 240_000 },
    async () => {
      const db = 'pipeline';
      const influx = clientFor(server, db);
      await influx.createDatabase(db);
      const s = await openStore();
      const stored = await s.appendMany(Array.from({ length: 600 }, (_, i) => down(i)));
      const write = lineWriter(sectionFor(server, db));
      let requests = 0;
      const { log } = memoryLogger();
      sink = new InfluxSink({
        store: s,
        // The real writer; the server goes down as the fifth request leaves, so requests
        // around it fail while others landed (or land) beside them.
        write: async (body, options) => {
          if (++requests === 5) await server.down();
          return write(body, options);
        },
        options: { precision: 'n', database: db },
        batchSize: 20,
        flushMs: 50,
        inFlight: 2,
        retry: { initialMs: 100, maxMs: 500 },
        clock: systemClock,
        log,
      });
      await sink.start();
      await eventually(() => expect(sink!.report().runner.failures).toBeGreaterThan(0), {
        timeout: 60_000,
      });
      expect(sink.delivered).toBeLessThan(stored.at(-1)!.seq);
      await server.up();
      await eventually(() => expect(sink!.delivered).toBe(stored.at(-1)!.seq), { timeout: 60_000 });
      await eventually(async () => expect(await s.cursor('influxdb')).toBe(stored.at(-1)!.seq));
      expect(requests).toBeGreaterThan(600 / 20); // some were written again
      expect(await column(influx, 'SELECT "id", "count" FROM events', 'id')).toEqual(
        stored.map((e) => e.id),
      );
    },
  );

  it('stores text with spaces, commas, equals, quotes, backslashes, newlines and unicode as it is', async () => {
    const db = 'escaping';
    const influx = clientFor(server, db);
    await influx.createDatabase(db);
    const s = await openStore();
    // A tag holds no newline (written as \n) and cannot end in a backslash (influxd 1.x).
    const tag = (t: string) => `${t.replace(/\n/g, ' ')}.`;
    const texts = [
      'my app, v2=beta',
      'say "hi" \\ C:\\path\\',
      "it\\'s",
      'line 1\nline 2',
      'ünïcødé 😀 容器',
    ];
    const stored = await s.appendMany(
      texts.map((t, i) => ({
        type: 'container_down',
        severity: 'warning',
        subject: `nas/${t}`,
        ts: T0 + i,
        data: { host: 'nas', container: tag(t), title: t, message: t },
      })),
    );
    sink = sinkFor(s, server, influx, db, memoryLogger().log);
    await sink.start();
    await eventually(() => expect(sink!.delivered).toBe(stored.at(-1)!.seq));
    const rows = (await influx.query(
      'SELECT "container", "title", "message", "subject" FROM events',
    )) as unknown as Record<string, unknown>[];
    expect(rows.map((r) => [r.container, r.title, r.message, r.subject])).toEqual(
      texts.map((t) => [tag(t), t, t, `nas/${t}`]),
    );
    expect(sink.report().set_aside).toBe(0);
  });
});
