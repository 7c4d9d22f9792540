import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { skipWithout } from '../../helpers/capability.js';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { cannotMount, fillDisk, makeTmpfsDir } from '../../helpers/mounts.js';
import { Collector, observer, retained } from '../../helpers/mqtt.js';
import { removeTempDir } from '../../helpers/tmp.js';

/**
 * The embedded broker with its data dir on a real full disk (a small tmpfs): its SQLite
 * file (the sessions and the retained messages) refuses writes. Needs root; skipped,
 * and says why, without, except in CI, where it fails instead.
 */

const noMount = skipWithout('a tmpfs mount (embedded broker on a full disk)', await cannotMount());

describe.skipIf(noMount)('embedded broker on a full disk', () => {
  const brokers: EmbeddedBroker[] = [];
  const clients: Array<{ endAsync(force?: boolean): Promise<void> }> = [];
  let dir: string | undefined;
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
    for (const b of brokers.splice(0)) await b.stop();
    if (dir) await removeTempDir(dir); // unmounts the tmpfs first
    dir = undefined;
  });

  const start = async (dataDir: string) => {
    const started = await startEmbeddedBroker({
      dataDir,
      yaml: 'broker: { listen: "127.0.0.1:0" }',
    });
    brokers.push(started.broker);
    return started;
  };
  const connect = async (url: string, opts: Parameters<typeof observer>[1] = {}) => {
    const c = await observer(url, opts);
    clients.push(c);
    return c;
  };

  it('keeps its clients connected, and what it writes after the disk recovers survives a restart', async () => {
    dir = await makeTmpfsDir('broker-full', '3m');
    const first = await start(dir);
    // A persistent session at QoS 1: its subscriptions and offline queue are session writes.
    const persistent = await connect(first.url, { clientId: 'persist', clean: false });
    const got = await new Collector(persistent).subscribe('site/a');
    const publisher = await connect(first.url, { clientId: 'pub' });
    let closes = 0;
    publisher.on('close', () => closes++);

    const filler = fillDisk(dir);
    for (let i = 0; i < 20; i++) {
      await publisher.publishAsync('site/a', `m${i}`, { qos: 1, retain: i % 2 === 0 });
    }
    await got.waitFor(() => got.messages.length === 20, 'all 20 messages');
    expect(got.messages.map((m) => m.payload)).toEqual(
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    expect(closes).toBe(0);
    const msgs = () => first.lines.map((l) => l.msg);
    // Both stores really refused: the test went through the paths it is about.
    expect(msgs()).toContain(
      'broker session store cannot write: sessions and offline queues kept in memory until it can',
    );
    expect(msgs()).toContain(
      'broker retained store cannot write: retained messages kept in memory until it can',
    );
    // A subscriber arriving now gets the retained message held in memory.
    expect((await retained(first.url, 'site/a')).get('site/a')).toBe('m18');

    rmSync(filler);
    await eventually(() => {
      expect(msgs()).toContain('broker session store writable again');
      expect(msgs()).toContain('broker retained store writable again');
    });
    // Written after the recovery: the session tables take writes again.
    await persistent.subscribeAsync('site/b', { qos: 1 });
    await persistent.endAsync();
    await publisher.endAsync();
    await brokers.pop()!.stop();

    const second = await start(dir);
    const back = await connect(second.url, { clientId: 'persist', clean: false });
    const again = new Collector(back); // no SUBSCRIBE: the session brings site/b back
    const other = await connect(second.url, { clientId: 'pub2' });
    await other.publishAsync('site/b', 'after', { qos: 1 });
    await again.waitFor(() => again.messages.some((m) => m.payload === 'after'), 'site/b');
    expect((await retained(second.url, 'site/a')).get('site/a')).toBe('m18');
  }, 60_000);

  it('writes a refused retained message once there is room, with nothing published after it', async () => {
    dir = await makeTmpfsDir('broker-quiet', '3m');
    const first = await start(dir);
    const publisher = await connect(first.url, { clientId: 'pub' });
    const filler = fillDisk(dir);
    // Bigger than any free page the file still has: its commit must reach the full disk.
    const last = `last ${'x'.repeat(64 * 1024)}`;
    await publisher.publishAsync('site/quiet', last, { qos: 1, retain: true });
    const msgs = () => first.lines.map((l) => l.msg);
    // No later publish: the refusal is noticed at the commit itself.
    await eventually(() =>
      expect(msgs()).toContain(
        'broker retained store cannot write: retained messages kept in memory until it can',
      ),
    );
    rmSync(filler);
    await eventually(() => expect(msgs()).toContain('broker retained store writable again'));
    await publisher.endAsync();
    await brokers.pop()!.stop();

    const second = await start(dir);
    expect((await retained(second.url, 'site/quiet')).get('site/quiet')).toBe(last);
  }, 60_000);
});
