import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  escapeMeasurement,
  escapeTag,
  fieldValue,
  line,
  parseLine,
  quoteString,
} from '../../../bridges/influxdb/line-protocol.js';
import { eventLines } from '../../../bridges/influxdb/lines.js';
import { eventPoints } from '../../../bridges/influxdb/points.js';
import type { StoredEvent } from '../../../src/core/events.js';
import type { EventRecord } from '../../../src/store/event-store.js';

describe('line protocol escaping', () => {
  it('escapes a measurement: comma and space, a newline made visible', () => {
    expect(escapeMeasurement('events')).toBe('events');
    expect(escapeMeasurement('my measure,ment')).toBe('my\\ measure\\,ment');
    expect(escapeMeasurement('a=b"c\\d')).toBe('a=b"c\\d');
    expect(escapeMeasurement('two\nlines\r')).toBe('two\\nlines\\r');
    expect(escapeMeasurement('température 🌡')).toBe('température\\ 🌡');
  });

  it('escapes tag keys, tag values and field keys: comma, equals, space', () => {
    expect(escapeTag('nas')).toBe('nas');
    expect(escapeTag('/mnt/My Disk')).toBe('/mnt/My\\ Disk');
    expect(escapeTag('a,b=c d')).toBe('a\\,b\\=c\\ d');
    // Quotes and backslashes mean nothing in a tag: influxd keeps them as written.
    expect(escapeTag('say "hi" C:\\x')).toBe('say\\ "hi"\\ C:\\x');
    expect(escapeTag('web\nserver')).toBe('web\\nserver');
    expect(escapeTag('ünïcødé-容器')).toBe('ünïcødé-容器');
  });

  it('quotes string fields: quote and backslash escaped, newlines kept', () => {
    expect(quoteString('plain text, with = and spaces')).toBe('"plain text, with = and spaces"');
    expect(quoteString('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteString('C:\\path\\')).toBe('"C:\\\\path\\\\"');
    // The influx package doubles the backslash of \' once more; written here as it is.
    expect(quoteString("it\\'s")).toBe('"it\\\\\'s"');
    expect(quoteString('line 1\nline 2')).toBe('"line 1\nline 2"');
    expect(quoteString('ünï 😀')).toBe('"ünï 😀"');
  });

  it('writes numbers as floats and booleans as words, as the influx package does', () => {
    expect(fieldValue(1)).toBe('1');
    expect(fieldValue(0.25)).toBe('0.25');
    expect(fieldValue(-3)).toBe('-3');
    expect(fieldValue(true)).toBe('true');
    expect(fieldValue(false)).toBe('false');
    expect(fieldValue('x')).toBe('"x"');
  });
});

describe('line', () => {
  it('writes tags in order, empty ones left out, fields sorted, then the timestamp', () => {
    expect(
      line('disks', { host: 'nas', mount: '/srv/a b', empty: '' }, { used: 4, free: 'x' }, '17'),
    ).toBe('disks,host=nas,mount=/srv/a\\ b free="x",used=4 17');
  });

  it('makes no line of a point without fields', () => {
    expect(line('hosts', { host: 'nas' }, {}, '1')).toBeUndefined();
  });

  it('reads back what it wrote: measurement, tags, timestamp', () => {
    const tags = { host: 'a,b=c d', container: 'x\ny', mount: 'ü' };
    const text = line('my m,x', tags, { f: 'v "q" \\' }, '1767225600000000007')!;
    expect(parseLine(text)).toEqual({
      measurement: 'my m,x',
      tags,
      timestamp: '1767225600000000007',
    });
  });
});

/** What the influx package itself sends for these points: the body of its POST /write. */
async function influxBody(server: Server, e: StoredEvent): Promise<string> {
  const bodies: string[] = [];
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  const { port } = server.address() as AddressInfo;
  const influx = new InfluxDB({ host: '127.0.0.1', port, database: 'db' });
  await influx.writePoints(eventPoints(e), { precision: 'n' });
  return bodies[0]!;
}

const asRecord = (e: StoredEvent): EventRecord => ({
  ...e,
  ts: Date.parse(e.ts),
  data: JSON.stringify(e.data),
});

describe('eventLines', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const base: StoredEvent = {
    seq: 7,
    id: '01JH0000000000000000000000',
    ts: '2026-01-01T00:00:00.000Z',
    node: 'site',
    type: 'container_down',
    severity: 'warning',
    subject: 'nas/web',
    data: { host: 'nas', container: 'web', title: 'web down', incident: { id: 'i1' } },
  };

  it('is, byte for byte, the body the influx package sends for the same points', async () => {
    const events: StoredEvent[] = [
      base,
      { ...base, seq: 1_234_567, data: { message: 'exited (137), 3 restarts', mount: '/' } },
      {
        ...base,
        type: 'backup_succeeded',
        severity: 'info',
        subject: 'backup/photos',
        data: { job: 'photos', duration_s: 42, size: 1024, title: 'photos "done"' },
      },
      { ...base, type: 'backup_failed', subject: 'backup/x', data: { host: 'my nas,1=2' } },
      {
        ...base,
        type: 'sample',
        severity: 'debug',
        data: {
          points: [
            { m: 'containers', t: { host: 'nas', container: 'web' }, f: { running: true } },
            { m: 'disks', t: { host: 'nas', mount: '/srv/a b' }, f: { used_pct: 40.5 } },
            { m: 'hosts', t: { host: 'nas' }, f: {} },
          ],
        },
      },
    ];
    for (const e of events) {
      const lines: string[] = [];
      eventLines(asRecord(e), lines);
      expect(lines.join('\n'), `${e.type} seq ${e.seq}`).toBe(await influxBody(server, e));
    }
  });

  it('keeps one event one line whatever its text holds', () => {
    const lines: string[] = [];
    const nasty = 'a,b=c d "q" \\ \n second line ünï 😀';
    eventLines(
      asRecord({
        ...base,
        subject: nasty,
        data: { host: nasty, container: nasty, title: nasty, message: nasty },
      }),
      lines,
    );
    expect(lines).toHaveLength(1);
    const [tags, rest] = [lines[0]!.split(' count=')[0]!, lines[0]!.split(' count=')[1]!];
    expect(tags).not.toContain('\n');
    expect(parseLine(lines[0]!).tags).toMatchObject({ host: nasty, container: nasty });
    expect(rest).toContain('title="a,b=c d \\"q\\" \\\\ \n second line ünï 😀"');
  });
});
