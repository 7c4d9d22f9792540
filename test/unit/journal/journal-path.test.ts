import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import {
  JournalError,
  journalLine,
  journalPath,
  resolveJournalDir,
} from '../../../src/sinks/journal.js';

const event = (over: Partial<StoredEvent> = {}): StoredEvent => ({
  seq: 7,
  id: '01HZZZZZZZZZZZZZZZZZZZZZZZ',
  ts: '2026-01-01T12:00:00.000Z',
  node: 'edge',
  type: 'container_down',
  severity: 'warning',
  subject: 'local/mosquitto',
  data: { exit_code: 137 },
  ...over,
});

describe('journalPath', () => {
  it('puts an event under the UTC day of its ts, then its node', () => {
    expect(journalPath('/j', event())).toBe('/j/2026-01-01/edge/events.jsonl');
  });

  it('splits at midnight UTC: the last millisecond is the old day, midnight the new one', () => {
    expect(journalPath('/j', event({ ts: '2025-12-31T23:59:59.999Z' }))).toBe(
      '/j/2025-12-31/edge/events.jsonl',
    );
    expect(journalPath('/j', event({ ts: '2026-01-01T00:00:00.000Z' }))).toBe(
      '/j/2026-01-01/edge/events.jsonl',
    );
  });

  it('uses the UTC date whatever offset the ts was written with', () => {
    // 23:30 in New York on the 10th is 04:30 UTC on the 11th.
    expect(journalPath('/j', event({ ts: '2026-03-10T23:30:00-05:00' }))).toBe(
      '/j/2026-03-11/edge/events.jsonl',
    );
  });

  it('refuses a node that is not a single path level, and a ts that is not a time', () => {
    expect(() => journalPath('/j', event({ node: '../etc' }))).toThrow(/event node "..\/etc"/);
    expect(() => journalPath('/j', event({ node: '' }))).toThrow(/not a node id/);
    expect(() => journalPath('/j', event({ ts: 'yesterday' }))).toThrow(/event ts "yesterday"/);
  });
});

describe('journalLine', () => {
  it('is the wire event (no seq), fields in wire order, one line ending in a newline', () => {
    expect(journalLine(event())).toBe(
      '{"id":"01HZZZZZZZZZZZZZZZZZZZZZZZ","ts":"2026-01-01T12:00:00.000Z","node":"edge",' +
        '"type":"container_down","severity":"warning","subject":"local/mosquitto",' +
        '"data":{"exit_code":137}}\n',
    );
  });

  it('keeps newlines inside values escaped, so an event is always exactly one line', () => {
    const line = journalLine(event({ subject: 'a\nb', data: { log: 'x\r\ny\u2028z' } }));
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(line.includes('\r')).toBe(false);
    expect(JSON.parse(line)).toMatchObject({ subject: 'a\nb', data: { log: 'x\r\ny\u2028z' } });
  });
});

describe('resolveJournalDir', () => {
  it('defaults to <data_dir>/journal', () => {
    expect(resolveJournalDir(undefined, '/var/lib/outpost', '/etc/outpost/config.yaml')).toBe(
      '/var/lib/outpost/journal',
    );
  });

  it('resolves a relative dir against the config file, like data_dir', () => {
    expect(resolveJournalDir('logs/journal', '/data', '/etc/outpost/config.yaml')).toBe(
      '/etc/outpost/logs/journal',
    );
    expect(resolveJournalDir('/srv/journal', '/data', '/etc/outpost/config.yaml')).toBe(
      '/srv/journal',
    );
  });
});

describe('JournalError', () => {
  it('names the file, says a full disk is retried, and is retryable', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    });
    const err = new JournalError('/j/2026-01-01/edge/events.jsonl', enospc);
    expect(err.message).toBe(
      'journal /j/2026-01-01/edge/events.jsonl: cannot append: ENOSPC: no space left on device, ' +
        'write (disk full: retried until space is freed)',
    );
    expect(err.retryable).toBe(true);
    expect(err.path).toBe('/j/2026-01-01/edge/events.jsonl');
  });
});
