import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BUILT = join(ROOT, 'dist/src/store/sqlite-store.js');
const WRITER = fileURLToPath(new URL('./fixtures/writer.js', import.meta.url));

interface Reported {
  ids: Map<string, number>;
  lastAck: number;
}

/** Runs the writer until it reported `accepted` events, then SIGKILLs it mid-stream. */
async function writeThenKill(dir: string, accepted: number): Promise<Reported> {
  const child = spawn(process.execPath, [WRITER, BUILT, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, sig) => resolve(sig)),
  );
  const reported: Reported = { ids: new Map(), lastAck: 0 };
  // Only whole lines count: a line cut by the kill was not fully reported.
  for await (const line of createInterface({ input: child.stdout })) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'event') reported.ids.set(a!, Number(b));
    if (kind === 'ack') reported.lastAck = Math.max(reported.lastAck, Number(a));
    if (reported.ids.size >= accepted && child.exitCode === null) child.kill('SIGKILL');
  }
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`writer exited by itself (${signal}): ${stderr}`);
  return reported;
}

describe('SqliteEventStore under kill -9', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await removeTempDir(dir);
    dir = undefined;
  });

  it('keeps every event and ack reported as accepted before the kill, over repeated kills', async () => {
    expect(existsSync(BUILT), `${BUILT} is missing: run \`npm run build\` first`).toBe(true);
    dir = await makeTempDir('event-store-kill');
    const all = new Map<string, number>();
    let lastAck = 0;
    for (const accepted of [300, 2_000, 50, 5_000]) {
      const reported = await writeThenKill(dir, accepted);
      for (const [id, seq] of reported.ids) all.set(id, seq);
      lastAck = Math.max(lastAck, reported.lastAck);

      const store = SqliteEventStore.open({ dataDir: dir, node: 'crash-test' });
      try {
        const stored = await store.query({ limit: 10_000_000 });
        const byId = new Map(stored.map((e) => [e.id, e.seq]));
        const missing = [...all].filter(([id, seq]) => byId.get(id) !== seq);
        expect(missing, 'accepted events missing after kill -9').toEqual([]);
        // Seqs are dense: nothing was half-written, and no seq was handed out twice.
        expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
        const stats = await store.stats();
        expect(stats.count).toBe(stored.length);
        expect(stats.lastSeq).toBe(stored.length);
        expect(await store.registerSink('uplink')).toBeGreaterThanOrEqual(lastAck);
      } finally {
        await store.close();
      }
    }
  }, 60_000);
});
