import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { waitUntil } from '../../helpers/mqtt.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { UpstreamObserver } from './upstream-observer.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BUILT = join(ROOT, 'dist/bridges/uplink/uplink-bridge.js');
const DRIVER = fileURLToPath(new URL('./fixtures/uplink-driver.js', import.meta.url));

let upstream: MosquittoBroker;
let dir: string;

beforeAll(async () => {
  upstream = await startMosquitto({ listeners: ['anonymous'] });
  dir = await makeTempDir('uplink-kill');
}, 60_000);

afterAll(async () => {
  await upstream?.stop();
  if (dir) await removeTempDir(dir);
});

function driver(mode: 'produce' | 'drain') {
  const child = spawn(process.execPath, [DRIVER, ROOT, dir, upstream.url, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, sig) => resolve(sig)),
  );
  return { child, exited, stderr: () => stderr };
}

/** Runs the producing driver until it reported `accepted` events, then SIGKILLs it. */
async function produceThenKill(accepted: number, all: Set<string>): Promise<void> {
  const d = driver('produce');
  let mine = 0;
  // Only whole lines count: a line cut by the kill was not fully reported.
  for await (const line of createInterface({ input: d.child.stdout })) {
    const [kind, id] = line.split(' ');
    if (kind !== 'event') continue;
    all.add(id!);
    if (++mine >= accepted && d.child.exitCode === null) d.child.kill('SIGKILL');
  }
  const signal = await d.exited;
  if (signal !== 'SIGKILL') throw new Error(`driver exited by itself (${signal}): ${d.stderr()}`);
}

describe('uplink under kill -9 during sustained production', () => {
  it('delivers every accepted event upstream, each with its id, over repeated kills', async () => {
    expect(existsSync(BUILT), `${BUILT} is missing: run \`npm run build\` first`).toBe(true);
    const central = await UpstreamObserver.connect(upstream.url, 'sites/site-k/+/+/events');
    try {
      const accepted = new Set<string>();
      for (const n of [300, 3000, 50, 2000, 800]) await produceThenKill(n, accepted);

      // A last run without production: the uplink catches up from its durable cursor.
      const d = driver('drain');
      try {
        await waitUntil(() => central.has(accepted), 'every accepted event upstream', 30_000);
      } finally {
        d.child.kill('SIGTERM');
        await d.exited;
      }
      const seen = new Set(central.ids());
      expect([...accepted].filter((id) => !seen.has(id))).toEqual([]);
      for (const r of central.received) expect(r.eventIdProperty).toBe(r.id);
      // Duplicates are what at-least-once allows; each one carries the same id and payload.
      const byId = new Map<string, string>();
      for (const r of central.received) {
        const body = JSON.stringify(r.event);
        expect(byId.get(r.id) ?? body).toBe(body);
        byId.set(r.id, body);
      }
    } finally {
      await central.close();
    }
  }, 120_000);
});
