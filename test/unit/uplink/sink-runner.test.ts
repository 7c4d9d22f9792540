import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { StoredEvent } from '../../../src/core/events.js';
import { SinkRunner, type SinkRunnerOptions } from '../../../src/sinks/sink-runner.js';
import { events, log, settle, tempStore, until } from './fakes.js';

interface Call {
  seqs: number[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A destination that acknowledges only when told to. */
function manualSink() {
  const calls: Call[] = [];
  const deliver = (evs: readonly StoredEvent[]) =>
    new Promise<void>((resolve, reject) =>
      calls.push({ seqs: evs.map((e) => e.seq), resolve, reject }),
    );
  const inFlight = () => calls.filter((c) => c.seqs.length > 0).length;
  return { calls, deliver, inFlight };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(opts: Partial<SinkRunnerOptions> = {}) {
  const s = await tempStore();
  const clock = new ManualClock(); // the runner's own timers (backoff), apart from the store's
  const sink = manualSink();
  const runner = new SinkRunner({
    store: s.store,
    name: 'test',
    deliver: sink.deliver,
    window: 10,
    batch: 5,
    clock,
    log,
    retry: { initialMs: 1000, maxMs: 8000 },
    stopTimeoutMs: 50,
    ...opts,
  });
  cleanup.push(async () => {
    const stopped = runner.stop();
    clock.advance(50); // the stop timeout, for deliveries a test left hanging
    await stopped;
    await s.close();
  });
  return { ...s, runnerClock: clock, sink, runner };
}

describe('SinkRunner', () => {
  it('delivers in seq order, batch by batch, never more than the window in flight', async () => {
    const { store, sink, runner } = await setup();
    await store.appendMany(events(23));
    await runner.start();
    await until(() => sink.calls.length === 2, 'two batches');
    await settle();
    expect(sink.calls.map((c) => c.seqs)).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ]);
    sink.calls[0]!.resolve();
    await until(() => sink.calls.length === 3, 'a third batch once there is room');
    for (let i = 1; i < 5; i++) {
      await until(() => sink.calls.length > i, `batch ${i + 1}`);
      sink.calls[i]!.resolve();
    }
    await until(() => runner.status().acked === 23, 'the cursor at the end');
    expect(sink.calls.flatMap((c) => c.seqs)).toEqual([...Array(23).keys()].map((i) => i + 1));
    expect(await store.cursor('test')).toBe(23);
    expect((await runner.backlog()).count).toBe(0);
  });

  it('moves the cursor only over the contiguous acknowledged prefix', async () => {
    const { store, sink, runner } = await setup();
    await store.appendMany(events(10));
    await runner.start();
    await until(() => sink.calls.length === 2, 'two batches');
    sink.calls[1]!.resolve(); // the later batch first
    await settle();
    expect(runner.status().delivered).toBe(0);
    expect(await store.cursor('test')).toBe(0);
    sink.calls[0]!.resolve();
    await until(() => runner.status().acked === 10, 'both acknowledged');
  });

  it('after a failure, delivers again from the first unacknowledged event, in order', async () => {
    const { store, sink, runner, runnerClock } = await setup();
    await store.appendMany(events(10));
    await runner.start();
    await until(() => sink.calls.length === 2, 'two batches');
    sink.calls[0]!.resolve();
    sink.calls[1]!.reject(new Error('broker went away'));
    await settle();
    expect(runner.status()).toMatchObject({ failing: true, failures: 1, delivered: 5 });
    expect(sink.calls.length).toBe(2); // nothing until the backoff ran out
    runnerClock.advance(1000);
    await until(() => sink.calls.length === 3, 'the retry');
    expect(sink.calls[2]!.seqs).toEqual([6, 7, 8, 9, 10]);
    sink.calls[2]!.resolve();
    await until(() => runner.status().acked === 10, 'delivered after the retry');
    expect(runner.status().failing).toBe(false);
  });

  it('re-delivers batches that succeeded after a failed one, keeping the order', async () => {
    const { store, sink, runner, runnerClock } = await setup({ window: 15 });
    await store.appendMany(events(15));
    await runner.start();
    await until(() => sink.calls.length === 3, 'three batches');
    sink.calls[1]!.reject(new Error('lost'));
    sink.calls[2]!.resolve();
    sink.calls[0]!.resolve();
    await settle();
    runnerClock.advance(1000);
    await until(() => sink.calls.length === 5, 'the retry');
    expect(sink.calls.slice(3).map((c) => c.seqs)).toEqual([
      [6, 7, 8, 9, 10],
      [11, 12, 13, 14, 15],
    ]);
  });

  it('sleeps without timers when caught up and wakes on the next append', async () => {
    const { store, sink, runner, runnerClock } = await setup();
    await runner.start();
    await settle();
    expect(sink.calls.length).toBe(0);
    expect(runnerClock.pendingTimers).toBe(0);
    await store.append(events(1)[0]!);
    await until(() => sink.calls.length === 1, 'woken by the append');
    expect(sink.calls[0]!.seqs).toEqual([1]);
  });

  it('a dead destination holds back neither appends nor another sink', async () => {
    const { store, runner } = await setup();
    const other = manualSink();
    const healthy = new SinkRunner({ store, name: 'other', deliver: other.deliver, log });
    cleanup.push(() => healthy.stop());
    await runner.start();
    await healthy.start();
    for (let i = 0; i < 5; i++) await store.appendMany(events(100, i * 100));
    await until(() => other.calls.length > 0, 'the healthy sink delivering');
    for (let i = 0; ; i++) {
      await until(() => other.calls.length > i, `healthy batch ${i + 1}`);
      other.calls[i]!.resolve();
      if (other.calls[i]!.seqs.at(-1) === 500) break;
    }
    await until(() => healthy.status().acked === 500, 'healthy sink done');
    expect(runner.status().inFlight).toBe(10); // the dead one: its window, no more
    expect((await store.backlog('test')).count).toBe(500);
  });

  it('pause holds new deliveries; resume continues', async () => {
    const { store, sink, runner } = await setup({ window: 5 });
    await runner.start();
    runner.pause();
    await store.appendMany(events(7));
    await settle();
    expect(sink.calls.length).toBe(0);
    runner.resume();
    await until(() => sink.calls.length === 1, 'resumed');
    sink.calls[0]!.resolve();
    await until(() => sink.calls.length === 2, 'the rest');
    expect(sink.calls[1]!.seqs).toEqual([6, 7]);
  });

  it('keeps its cursor across restarts: only unacknowledged events come again', async () => {
    const { store, sink, runner, runnerClock } = await setup();
    await store.appendMany(events(10));
    await runner.start();
    await until(() => sink.calls.length === 2, 'two batches');
    sink.calls[0]!.resolve();
    await until(() => runner.status().acked === 5, 'first batch acked');
    const stopped = runner.stop(); // the second batch never gets its ack
    runnerClock.advance(50);
    await stopped;
    const again = manualSink();
    const next = new SinkRunner({ store, name: 'test', deliver: again.deliver, log });
    cleanup.push(() => next.stop());
    await next.start();
    await until(() => again.calls.length === 1, 'delivery after restart');
    expect(again.calls[0]!.seqs[0]).toBe(6);
  });

  it('a new sink with startAt now skips what was stored before it', async () => {
    const { store, sink, runner } = await setup({ startAt: 'now' });
    await store.appendMany(events(4));
    await runner.start();
    await store.append(events(1)[0]!);
    await until(() => sink.calls.length === 1, 'the new event');
    expect(sink.calls[0]!.seqs).toEqual([5]);
  });
});
