import {
  appendFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditLimits, type NewAuditEntry } from '../../../src/commands/audit.js';
import { readAudit } from '../../../src/commands/audit-read.js';
import { ManualClock } from '../../../src/core/clock.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** An audit entry whose line has the same length for every `n` below 10^5. */
const entry = (n: number): NewAuditEntry => ({
  kind: 'command',
  who: 'anonymous',
  origin: 'mqtt',
  action: 'restart_container',
  target: 'local/web',
  command_id: `c${String(n).padStart(5, '0')}`,
  action_id: null,
  outcome: 'invalid',
});

const lineBytes = (clock: ManualClock): number =>
  Buffer.byteLength(
    `${JSON.stringify({ ts: new Date(clock.now()).toISOString(), ...entry(0) })}\n`,
  );

/** Every audit file in `dir`, by name, as the numbers of the entries in it. */
async function auditFiles(dir: string): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const name of (await readdir(dir)).filter((n) => /^audit(\.\d+)?\.jsonl$/.test(n)).sort())
    out[name] = (await readFile(join(dir, name), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => Number((JSON.parse(l) as { command_id: string }).command_id.slice(1)));
  return out;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

async function ids(current: string): Promise<number[]> {
  const { entries, damaged, unreadable } = await readAudit(current);
  expect({ damaged, unreadable }).toEqual({ damaged: 0, unreadable: [] });
  return entries.map((e) => Number(e.command_id!.slice(1)));
}

describe('audit log rotation', () => {
  let dir: string;
  let path: string;
  let clock: ManualClock;
  const open = (limits: Partial<AuditLimits>, log = memoryLogger().log): AuditLog => {
    const a = new AuditLog(path, clock, {
      limits: { maxBytes: 1 << 20, keep: 3, maxAgeMs: 90 * DAY, ...limits },
      log,
    });
    a.open();
    return a;
  };
  beforeEach(async () => {
    dir = await makeTempDir('audit-rotation');
    path = join(dir, 'audit.jsonl');
    clock = new ManualClock(T0);
  });
  afterEach(() => removeTempDir(dir));

  it('fills a file up to max_bytes exactly and rotates before the line that would pass it', async () => {
    const L = lineBytes(clock);
    const log = open({ maxBytes: 3 * L });
    for (const n of range(0, 3)) await log.append(entry(n));
    expect(await auditFiles(dir)).toEqual({ 'audit.jsonl': [0, 1, 2] });
    expect((await stat(path)).size).toBe(3 * L);
    await log.append(entry(3));
    expect(await auditFiles(dir)).toEqual({ 'audit.1.jsonl': [0, 1, 2], 'audit.jsonl': [3] });
    // One burst (one group commit) rotating twice in the middle: lines stay whole, in order.
    await Promise.all(range(4, 10).map((n) => log.append(entry(n))));
    expect(await auditFiles(dir)).toEqual({
      'audit.3.jsonl': [0, 1, 2],
      'audit.2.jsonl': [3, 4, 5],
      'audit.1.jsonl': [6, 7, 8],
      'audit.jsonl': [9],
    });
    await log.close();
  });

  it('one byte less and the third line goes to a new file; a line longer than max_bytes gets one of its own', async () => {
    const L = lineBytes(clock);
    const log = open({ maxBytes: 3 * L - 1 });
    await Promise.all(range(0, 3).map((n) => log.append(entry(n))));
    expect(await auditFiles(dir)).toEqual({ 'audit.1.jsonl': [0, 1], 'audit.jsonl': [2] });
    await log.close();
    const tiny = open({ maxBytes: L - 1 });
    await Promise.all(range(3, 5).map((n) => tiny.append(entry(n))));
    expect(await auditFiles(dir)).toEqual({
      'audit.3.jsonl': [0, 1],
      'audit.2.jsonl': [2],
      'audit.1.jsonl': [3],
      'audit.jsonl': [4],
    });
    await tiny.close();
  });

  it('keeps `keep` rotated files, deleting the oldest, and trims to a lowered keep on open', async () => {
    const L = lineBytes(clock);
    const log = open({ maxBytes: 2 * L, keep: 2 });
    for (const n of range(0, 11)) await log.append(entry(n));
    expect(await auditFiles(dir)).toEqual({
      'audit.2.jsonl': [6, 7],
      'audit.1.jsonl': [8, 9],
      'audit.jsonl': [10],
    });
    await log.close();
    await writeFile(join(dir, 'audit.7.jsonl'), ''); // left by a larger keep
    const one = open({ maxBytes: 2 * L, keep: 1 });
    expect(Object.keys(await auditFiles(dir))).toEqual(['audit.1.jsonl', 'audit.jsonl']);
    expect(await ids(path)).toEqual([8, 9, 10]);
    await one.close();
  });

  it('deletes rotated files last written longer ago than max_age, at open and hourly while writing', async () => {
    const L = lineBytes(clock);
    const log = open({ maxBytes: 2 * L, keep: 5, maxAgeMs: 90 * DAY });
    for (const n of range(0, 6)) await log.append(entry(n));
    await log.close();
    const age = async (name: string, days: number) => {
      const t = new Date(clock.now() - days * DAY);
      await utimes(join(dir, name), t, t);
    };
    await age('audit.2.jsonl', 91);
    await age('audit.1.jsonl', 89);
    const again = open({ maxBytes: 2 * L, keep: 5, maxAgeMs: 90 * DAY });
    expect(Object.keys(await auditFiles(dir))).toEqual(['audit.1.jsonl', 'audit.jsonl']);
    clock.advance(30 * 60_000); // within the hour: not looked at again
    await again.append(entry(6));
    // That rotated: audit.1 (89 days old) is audit.2 now, and kept.
    expect(Object.keys(await auditFiles(dir))).toHaveLength(3);
    clock.advance(2 * DAY);
    await again.append(entry(7)); // an hour has passed, and audit.2 is 91 days old now
    expect(await auditFiles(dir)).toEqual({ 'audit.1.jsonl': [4, 5], 'audit.jsonl': [6, 7] });
    await again.close();
  });

  /**
   * A crash at each step of a rotation, from cur=D 1=C 2=B 3=A with keep 3: delete 3,
   * rename 2→3, rename 1→2, rename cur→1 (audit-files.ts), then the new file. Whatever
   * step the crash came after, the reopened log reads in order, and after three more lines
   * (one more rotation, or none if the crash left no current file) holds every line but
   * A's (the file the rotation was dropping), each once, in order.
   */
  it.each([0, 1, 2, 3, 4])(
    'a crash after step %i of a rotation leaves files that reopen in order',
    async (steps) => {
      const lines = (from: number) =>
        range(from, from + 3)
          .map((n) => `${JSON.stringify({ ts: new Date(T0).toISOString(), ...entry(n) })}\n`)
          .join('');
      const f = (n: number) => join(dir, n === 0 ? 'audit.jsonl' : `audit.${n}.jsonl`);
      await writeFile(f(3), lines(0)); // A
      await writeFile(f(2), lines(3)); // B
      await writeFile(f(1), lines(6)); // C
      await writeFile(f(0), lines(9)); // D
      const rotation = [
        () => rm(f(3)),
        () => rename(f(2), f(3)),
        () => rename(f(1), f(2)),
        () => rename(f(0), f(1)),
      ];
      for (const step of rotation.slice(0, steps)) await step();
      const before = await ids(path);
      expect(before).toEqual(range(steps === 0 ? 0 : 3, 12));

      const L = lineBytes(clock);
      const log = open({ maxBytes: 3 * L, keep: 3 });
      for (const n of range(12, 15)) await log.append(entry(n));
      await log.close();
      expect(await ids(path)).toEqual(range(3, 15));
      // The gap a crash left is closed: the names are the ones a clean run has.
      expect(Object.keys(await auditFiles(dir))).toEqual([
        'audit.1.jsonl',
        'audit.2.jsonl',
        'audit.3.jsonl',
        'audit.jsonl',
      ]);
    },
  );

  it('ends a line torn by a crash mid-write, so the next line stays whole', async () => {
    const L = lineBytes(clock);
    const log = open({ maxBytes: 10 * L });
    await log.append(entry(0));
    await log.close();
    await appendFile(path, '{"ts":"2026-01-01T00:00:00.000Z","kind":"comm');
    const again = open({ maxBytes: 10 * L });
    await again.append(entry(1));
    await again.close();
    const read = await readAudit(path);
    expect(read.entries.map((e) => e.command_id)).toEqual(['c00000', 'c00001']);
    expect(read.damaged).toBe(1);
  });

  it('10,000 lines with a small max_bytes stay within (keep + 1) × max_bytes', async () => {
    const limits = { maxBytes: 8192, keep: 4 };
    const log = open(limits);
    // Bursts of up to 100, as a flood of invalid commands arrives: one group commit each.
    for (let i = 0; i < 10_000; i += 97) {
      await Promise.all(range(i, Math.min(i + 97, 10_000)).map((n) => log.append(entry(n))));
    }
    await log.close();
    const names = (await readdir(dir)).filter((n) => n.startsWith('audit'));
    const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size));
    expect(names.length).toBe(limits.keep + 1);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(limits.maxBytes);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(
      (limits.keep + 1) * limits.maxBytes,
    );
    const kept = await ids(path);
    expect(kept).toEqual(range(10_000 - kept.length, 10_000));
  });

  it('a write that fails (disk full) rejects and is logged once, until one succeeds', async () => {
    const { log, lines } = memoryLogger();
    const full = new AuditLog('/dev/full', clock, {
      limits: { maxBytes: 1 << 20, keep: 3, maxAgeMs: DAY },
      log,
    });
    full.open();
    await expect(full.append(entry(0))).rejects.toMatchObject({
      code: 'INTERNAL',
      retryable: true,
      message: expect.stringMatching(/^audit log \/dev\/full: ENOSPC/) as unknown,
    });
    await expect(full.append(entry(1))).rejects.toThrow(/ENOSPC/);
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      expect.objectContaining({ msg: 'audit log not written', path: '/dev/full' }),
    ]);
    await full.close();
  });

  it('a data dir it cannot create is reported at open, and each write tries again', async () => {
    const { log, lines } = memoryLogger();
    await writeFile(join(dir, 'file'), '');
    const bad = new AuditLog(join(dir, 'file', 'data', 'audit.jsonl'), clock, {
      limits: { maxBytes: 1 << 20, keep: 3, maxAgeMs: DAY },
      log,
    });
    expect(() => bad.open()).not.toThrow();
    await expect(bad.append(entry(0))).rejects.toThrow(/file\/data.*(ENOTDIR|EEXIST)/);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    await bad.close();
  });

  it('refuses a line rather than pass max_bytes when it cannot rotate, and recovers', async () => {
    const { log: logger, lines } = memoryLogger();
    const L = lineBytes(clock);
    await mkdir(join(dir, 'audit.1.jsonl', 'stuck'), { recursive: true });
    const log = open({ maxBytes: 2 * L, keep: 1 }, logger);
    await Promise.all([log.append(entry(0)), log.append(entry(1))]);
    await expect(log.append(entry(2))).rejects.toThrow(/audit log/);
    expect((await stat(path)).size).toBe(2 * L);
    await rm(join(dir, 'audit.1.jsonl'), { recursive: true });
    await log.append(entry(3));
    await log.close();
    expect(await auditFiles(dir)).toEqual({ 'audit.1.jsonl': [0, 1], 'audit.jsonl': [3] });
    expect(lines.map((l) => l.msg)).toEqual(['audit log not written', 'audit log written again']);
  });
});
