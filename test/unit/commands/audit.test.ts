import { appendFile, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditLimits, type NewAuditEntry } from '../../../src/commands/audit.js';
import { readAudit } from '../../../src/commands/audit-read.js';
import { buildAuditQuery } from '../../../src/cli/audit.js';
import { main } from '../../../src/cli/dispatch.js';
import { UsageError } from '../../../src/cli/args.js';
import { ManualClock } from '../../../src/core/clock.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const limits: AuditLimits = { maxBytes: 10 * 1024 ** 2, keep: 5, maxAgeMs: 90 * 86_400_000 };

const entry = (over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  kind: 'command',
  who: 'ops',
  origin: 'mqtt',
  action: 'restart_container',
  target: 'local/web',
  command_id: 'c1',
  action_id: 'c1',
  outcome: 'received',
  ...over,
});

describe('audit log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('audit');
  });
  afterEach(() => removeTempDir(dir));

  it('appends JSON lines, one fsync per burst, never rewriting what is there', async () => {
    const path = join(dir, 'data', 'audit.jsonl');
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const log = new AuditLog(path, clock, { limits });
    log.open();
    await Promise.all([
      log.append(entry()),
      log.append(entry({ kind: 'decision', outcome: 'allow' })),
    ]);
    const before = await readFile(path, 'utf8');
    const inode = (await stat(path)).ino;
    clock.advance(60_000);
    await log.append(entry({ kind: 'result', outcome: 'completed', message: 'ok' }));
    await log.close();
    const after = await readFile(path, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect((await stat(path)).ino).toBe(inode);
    const lines = after
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.ts, l.kind, l.outcome])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'command', 'received'],
      ['2026-01-01T00:00:00.000Z', 'decision', 'allow'],
      ['2026-01-01T00:01:00.000Z', 'result', 'completed'],
    ]);
    await expect(log.append(entry())).rejects.toThrow(/not open/);
  });

  it('reads back with filters and counts damaged lines', async () => {
    const path = join(dir, 'audit.jsonl');
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const log = new AuditLog(path, clock, { limits });
    log.open();
    await log.append(entry());
    clock.advance(3_600_000);
    await log.append(entry({ action: 'maintenance', target: 'nas', kind: 'maintenance' }));
    await log.close();
    await appendFile(path, '{"ts": "garbage\n');
    const all = await readAudit(path);
    expect(all.entries).toHaveLength(2);
    expect(all.damaged).toBe(1);
    const since = await readAudit(path, { since: Date.parse('2026-01-01T00:30:00Z') });
    expect(since.entries.map((e) => e.action)).toEqual(['maintenance']);
    expect((await readAudit(path, { action: ['restart_container'] })).entries).toHaveLength(1);
    expect((await readAudit(path, { target: 'nas' })).entries).toHaveLength(1);
    expect((await readAudit(join(dir, 'none.jsonl'))).entries).toEqual([]);
  });

  it('outpost audit --since 1h prints the recent entries', async () => {
    const config = join(dir, 'config.yaml');
    await writeFile(config, `node: { id: n1 }\ndata_dir: ${JSON.stringify(dir)}\n`);
    const path = join(dir, 'audit.jsonl');
    const old = {
      ts: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      ...entry({ command_id: 'old' }),
    };
    const recent = {
      ts: new Date(Date.now() - 60_000).toISOString(),
      ...entry({ kind: 'decision', outcome: 'deny', message: 'no policy rule allows it' }),
    };
    await writeFile(path, `${JSON.stringify(old)}\n${JSON.stringify(recent)}\n`);
    const { out, err, io } = cliIo();
    expect(await main(['audit', '--since', '1h', '--config', config], io)).toBe(0);
    expect(out[0]).toMatch(/^TS +KIND +WHO +ACTION +TARGET +OUTCOME +MESSAGE$/);
    expect(out.slice(1)).toEqual([
      expect.stringMatching(
        /decision +ops +restart_container +local\/web +deny +no policy rule allows it$/,
      ),
    ]);
    out.length = 0;
    expect(await main(['audit', '--json', '--config', config], io)).toBe(0);
    expect(out.map((l) => (JSON.parse(l) as { command_id: string }).command_id)).toEqual([
      'old',
      'c1',
    ]);
    expect(await main(['audit', '--action', 'reboot', '--config', config], io)).toBe(2);
    expect(err.join('\n')).toMatch(/--action "reboot": expected one of/);
  });

  it('outpost audit reads across rotated files, oldest first, and names what it read', async () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const line = (n: number) =>
      `${JSON.stringify({
        ts: new Date(t0 + n * 60_000).toISOString(),
        ...entry({ command_id: `c${n}`, target: n % 2 === 0 ? 'local/web' : 'local/db' }),
      })}\n`;
    // audit.4 and no audit.3: the gap a crash in the middle of a rotation leaves.
    const files: [string, number[]][] = [
      ['audit.4.jsonl', [0, 1]],
      ['audit.2.jsonl', [2, 3]],
      ['audit.1.jsonl', [4, 5]],
      ['audit.jsonl', [6]],
    ];
    for (const [name, ns] of files) await writeFile(join(dir, name), ns.map(line).join(''));
    await appendFile(join(dir, 'audit.2.jsonl'), 'torn\n');
    const config = join(dir, 'config.yaml');
    await writeFile(config, `node: { id: n1 }\ndata_dir: ${JSON.stringify(dir)}\n`);
    const { out, err, io } = cliIo();
    const run = async (...args: string[]) => {
      out.length = 0;
      err.length = 0;
      const code = await main(['audit', '--json', '--config', config, ...args], io);
      return { code, ids: out.map((l) => (JSON.parse(l) as { command_id: string }).command_id) };
    };
    const ids = (...ns: number[]) => ns.map((n) => `c${n}`);
    expect(await run()).toEqual({ code: 0, ids: ids(0, 1, 2, 3, 4, 5, 6) });
    expect(err).toEqual([`(1 damaged line skipped in ${join(dir, 'audit.2.jsonl')})`]);
    const since = new Date(t0 + 120_000).toISOString();
    expect(await run('--target', 'local/db', '--since', since)).toEqual({
      code: 0,
      ids: ids(3, 5),
    });

    // One file under two names, as the agent may rotate while this reads: read once.
    await rm(join(dir, 'audit.4.jsonl'));
    await link(join(dir, 'audit.jsonl'), join(dir, 'audit.4.jsonl'));
    expect((await run()).ids).toEqual(ids(2, 3, 4, 5, 6));

    // An unreadable file: what the others hold, which files those are, and exit 1.
    await rm(join(dir, 'audit.4.jsonl'));
    await rm(join(dir, 'audit.2.jsonl'));
    await mkdir(join(dir, 'audit.2.jsonl'));
    expect(await run()).toEqual({ code: 1, ids: ids(4, 5, 6) });
    expect(err).toEqual([
      `could not read ${join(dir, 'audit.2.jsonl')}: EISDIR: illegal operation on a directory, read`,
      `the entries above are from ${join(dir, 'audit.1.jsonl')}, ${join(dir, 'audit.jsonl')} only`,
    ]);
  });

  it('parses --since / --until / --action', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(buildAuditQuery({ since: '1h', action: ['approve,reject'] }, now)).toEqual({
      since: now - 3_600_000,
      action: ['approve', 'reject'],
    });
    expect(() => buildAuditQuery({ since: 'yesterday' }, now)).toThrow(UsageError);
  });
});

/** What `outpost audit` prints, line by line, and the io to give it. */
function cliIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (l: string) => void out.push(l),
    err: (l: string) => void err.push(l),
    env: {},
  };
  return { out, err, io };
}
