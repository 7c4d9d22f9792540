import { performance } from 'node:perf_hooks';
import type { IClientOptions } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { DroppedClient } from '../../../src/mqtt/client-queues.js';
import { startEmbeddedBroker } from '../../helpers/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { link, observer } from '../../helpers/mqtt.js';
import { RawSubscriber } from '../../helpers/raw-subscriber.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * Issue #13, point 4: no client of the embedded broker can stall the others. A subscriber
 * that stops reading fills the kernel's socket buffers (about 4 MiB here, net.ipv4.tcp_wmem
 * and an unread receive window), then its own queue in the broker; the floods below are
 * several times that, so the broker holds a backlog for it while the others are served.
 */
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBroker(brokerYaml: string) {
  const dir = await makeTempDir('client-queue');
  cleanups.push(() => removeTempDir(dir));
  const dropped: DroppedClient[] = [];
  const started = await startEmbeddedBroker({
    dataDir: dir,
    yaml: `broker: { listen: "127.0.0.1:0", ${brokerYaml} }\n`,
    dropped: (d) => dropped.push(d),
  });
  cleanups.push(() => started.broker.stop());
  return { ...started, dropped };
}

async function frozen(port: number, opts: Parameters<typeof RawSubscriber.connect>[1]) {
  const sub = await RawSubscriber.connect(port, opts);
  cleanups.push(() => sub.destroy());
  sub.freeze();
  return sub;
}

async function client(url: string, opts: IClientOptions = {}) {
  const c = await observer(url, opts);
  cleanups.push(() => c.endAsync());
  return c;
}

/** `n` messages of `size` bytes, numbered: seq (4 bytes) then the send time (8 bytes). */
function stamped(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, 'x');
  b.writeUInt32BE(seq, 0);
  b.writeDoubleBE(performance.now(), 4);
  return b;
}

const seqOf = (payload: Buffer) => payload.readUInt32BE(0);

/**
 * Publishes `n` numbered messages of `size` bytes to `flood/<seq>`, at QoS 1 or alternating
 * QoS 0 and 1, `window` at a time, and resolves once the broker acknowledged them all: each
 * has been handed to its subscribers by then (ordered-publish.ts).
 */
async function flood(
  url: string,
  n: number,
  size: number,
  opts: { alternate?: boolean; window?: number } = {},
) {
  const pub = await client(url);
  const window = opts.window ?? n;
  for (let i = 0; i < n; i += window) {
    const sends: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + window); j++) {
      const qos = opts.alternate && j % 2 === 0 ? 0 : 1;
      sends.push(pub.publishAsync(`flood/${j}`, stamped(j, size), { qos }));
    }
    await Promise.all(sends);
  }
}

/** A subscriber reading everything under flood/#, and the seqs it got, in order. */
async function reader(url: string, opts: IClientOptions = {}) {
  const c = await client(url, opts);
  const seqs: number[] = [];
  c.on('message', (topic, payload) => {
    if (topic.startsWith('flood/')) seqs.push(seqOf(payload));
  });
  await c.subscribeAsync('flood/#', { qos: 1 });
  return seqs;
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('embedded broker: a subscriber that does not read', () => {
  it("holds up neither another subscriber nor the agent's publishing", async () => {
    // A queue larger than the flood and a long drain timer: the frozen client stays
    // attached throughout, with megabytes waiting for it. Before the queues, each message
    // waited for it until drain_timeout cut it off.
    const { broker, url, dropped } = await startBroker('drain_timeout: 300s, client_queue: 64MiB');
    await frozen(broker.port, { clientId: 'frozen', filter: '#', qos: 1 });

    const healthy = await client(url);
    const seen: number[] = [];
    healthy.on('message', (_topic, payload) => seen.push(seqOf(payload)));
    await healthy.subscribeAsync('outpost/edge/events', { qos: 1 });

    // The agent's own client publishes a steady stream of events: 20 MiB in about 3 s.
    const agent = link({ ...broker.localEndpoint(), protocol: '3.1.1', queueLimit: 10_000 });
    await agent.start();
    cleanups.push(() => agent.stop());
    const n = 320;
    const sends: Promise<void>[] = [];
    await new Promise<void>((resolve) => {
      let i = 0;
      const timer = setInterval(() => {
        sends.push(agent.publish('outpost/edge/events', stamped(i, 64 * 1024), { qos: 1 }));
        if (++i === n) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    await Promise.all(sends);
    await eventually(() => expect(seen.length).toBe(n), { timeout: 240_000 });

    expect(seen).toEqual(upTo(n));
    // Everything arrived while the frozen client was still attached (the broker drops it
    // only at drain_timeout): it held nothing up.
    // (How fast is the bench's business, not a test's.)
    expect(dropped).toEqual([]);
  });

  it('drops QoS 0 messages to it past half its queue, then disconnects it, and says so', async () => {
    // The default client_queue, 1 MiB.
    const { broker, url, dropped, lines } = await startBroker(
      'drain_timeout: 30s, users: [{ username: dash, password: pw }]',
    );
    const watcher = await client(url);
    const gone: string[] = [];
    watcher.on('message', (_t, payload) => gone.push(payload.toString()));
    await watcher.subscribeAsync('$SYS/+/disconnect/clients');
    // A persistent session: its QoS 1 messages must survive the disconnect.
    const stuck = await frozen(broker.port, {
      clientId: 'dash-1',
      filter: 'flood/#',
      qos: 1,
      clean: false,
      username: 'dash',
      password: 'pw',
    });
    const healthy = await reader(url);

    // 12.5 MiB, a few messages at a time: the healthy reader, in this process too, keeps
    // up with that, while a burst could leave more than 512 KiB waiting for it as well.
    const n = 800;
    await flood(url, n, 16 * 1024, { alternate: true, window: 8 });
    await eventually(() => expect(dropped).toHaveLength(1));
    expect(dropped[0]).toMatchObject({
      clientId: 'dash-1',
      user: 'dash',
      reason: expect.stringMatching(/^its queue passed broker\.client_queue \(1048576 bytes/),
    });
    expect(dropped[0]!.qos0Dropped).toBeGreaterThan(0);
    await eventually(() => expect(gone).toContain('dash-1'));
    // Dropping QoS 0 first (maybe more than once while the kernel's buffers still took
    // some), then disconnected: each line names the client and its user.
    const warned = lines.filter((l) => l.level === 'warn' && l.clientId === 'dash-1');
    expect(warned.map((l) => l.user)).toEqual(warned.map(() => 'dash'));
    expect(warned[0]!.msg).toMatch(/^a client reads too slowly: dropping QoS 0 messages/);
    expect(warned.at(-1)!.msg).toMatch(/^disconnecting a client that does not read/);
    expect(warned.filter((l) => l.msg.startsWith('disconnecting'))).toHaveLength(1);
    // Every message, each QoS in order: aedes acknowledges a QoS 1 publish before it
    // routes it (lib/handlers/publish.js), so the QoS 0 one after it may overtake it.
    await eventually(() => expect(healthy).toHaveLength(n));
    const odd = (i: number) => i % 2 === 1;
    expect(healthy.filter((i) => !odd(i))).toEqual(upTo(n).filter((i) => !odd(i)));
    expect(healthy.filter(odd)).toEqual(upTo(n).filter(odd));

    // Back, it gets every QoS 1 message (the odd ones), the queued ones and the dropped.
    stuck.destroy();
    const back = await reader(url, {
      clientId: 'dash-1',
      clean: false,
      username: 'dash',
      password: 'pw',
    });
    const qos1 = upTo(n).filter(odd);
    await eventually(() => expect([...new Set(back)].sort((a, b) => a - b)).toEqual(qos1));
  });

  /** A reader that stopped with 12.5 MiB on its way, which another one got meanwhile. */
  async function slowReader(brokerYaml: string) {
    const started = await startBroker(brokerYaml);
    const slow = await frozen(started.broker.port, { clientId: 'slow', filter: 'flood/#' });
    const healthy = await reader(started.url);
    const n = 200;
    await flood(started.url, n, 64 * 1024);
    await eventually(() => expect(healthy).toHaveLength(n));
    return { ...started, slow, n };
  }

  it('keeps a slow reader with drain_timeout 0s, however long its socket stays full', async () => {
    const { slow, n, dropped } = await slowReader('drain_timeout: 0s, client_queue: 64MiB');
    // Its socket has not drained since the flood: a timer of 0 ms (or of anything under
    // a second) would have fired by now.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(dropped).toEqual([]);
    slow.thaw();
    await eventually(() => expect(slow.publishes).toHaveLength(n));
    expect(slow.publishes.map((p) => seqOf(p.payload))).toEqual(upTo(n));
    expect(dropped).toEqual([]);
  });

  it('disconnects a client whose socket has not drained for drain_timeout', async () => {
    const { dropped } = await slowReader('drain_timeout: 300ms, client_queue: 64MiB');
    await eventually(() => expect(dropped).toHaveLength(1));
    expect(dropped[0]).toEqual({
      clientId: 'slow',
      user: 'anonymous',
      reason: 'its socket did not drain for broker.drain_timeout (300 ms)',
      qos0Dropped: 0,
    });
  });

  it("never drops the agent's own client, whatever the bounds", async () => {
    const { broker, url, dropped } = await startBroker('drain_timeout: 300ms, client_queue: 64KiB');
    const { username, password } = broker.localEndpoint();
    const agent = await frozen(broker.port, {
      clientId: 'outpost-edge-2',
      filter: 'flood/#',
      qos: 1,
      username,
      password,
    });
    const n = 200; // 12.5 MiB
    await flood(url, n, 64 * 1024);
    // Well past the drain timer, with far more than client_queue waiting for it.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(dropped).toEqual([]);
    agent.thaw();
    await eventually(() => expect(agent.publishes).toHaveLength(n));
    expect(agent.publishes.map((p) => seqOf(p.payload))).toEqual(upTo(n));
    expect(dropped).toEqual([]);
  });

  it('lets a message larger than client_queue through to a client that reads', async () => {
    const { url, dropped } = await startBroker('client_queue: 64KiB');
    const got = await reader(url);
    await flood(url, 1, 1024 * 1024);
    await eventually(() => expect(got).toEqual([0]));
    expect(dropped).toEqual([]);
  });

  it('sends a new subscriber every retained message, whatever client_queue says', async () => {
    // Home Assistant subscribing to all discovery configs at once: aedes streams them at
    // the socket's pace, and they never wait in the client's queue.
    const { url, dropped } = await startBroker('client_queue: 64KiB');
    const pub = await client(url);
    const n = 128; // 4 MiB
    for (let i = 0; i < n; i++)
      await pub.publishAsync(`flood/${i}`, stamped(i, 32 * 1024), { qos: 1, retain: true });
    const got = await reader(url);
    await eventually(() => expect(got).toHaveLength(n));
    expect([...got].sort((a, b) => a - b)).toEqual(upTo(n));
    expect(dropped).toEqual([]);
  });
});
