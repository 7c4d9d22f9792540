import type { Aedes } from 'aedes';

type Done = (err?: Error | null) => void;
type Packet = { topic?: string; retain?: boolean };
type Publish = (packet: Packet, client?: unknown, done?: Done) => void;

interface Queued {
  readonly packet: Packet;
  readonly client: unknown;
  readonly done: Done | undefined;
  next: Queued | undefined;
  /** A newer retained message for its topic took its place: skipped, answered with it. */
  superseded?: boolean;
  /** The answers of the messages this one replaced, given when this one's is. */
  replaced?: Done[];
}

export interface OrderedPublishOptions {
  /** A publish whose steps have not called back after this long is given up on. */
  readonly stallMs?: number;
  onStall?(topic: string | undefined): void;
  /**
   * Messages waiting past which a retained message replaces the one still waiting for its
   * topic (latest wins). Default 1000.
   */
  readonly maxQueued?: number;
  /** A waiting retained message was replaced by a newer one for `topic`. */
  onCoalesce?(topic: string): void;
  /**
   * Calls back once what the broker stored so far is on disk (the retained store commits
   * a turn's messages at once): a publish is acknowledged (PUBACK) only then.
   */
  durable?(done: () => void): void;
}

/** What is waiting, for tests and the log. */
export interface OrderedPublishState {
  /** Messages waiting (not counting the one being handed over). */
  readonly queued: number;
  /** Retained messages replaced by a newer one while waiting, since the start. */
  readonly coalesced: number;
}

/**
 * Makes aedes deliver messages in the order it numbers them.
 *
 * aedes numbers every message (`brokerCounter`) and forwards one to a client only if its
 * number is above the last one that client got (lib/client.js `dedupe`, meant for
 * overlapping subscriptions). A message's steps before delivery are asynchronous where
 * persistence is (storing a retained message, queueing for offline sessions), so a later
 * message overtakes an earlier one, which is then dropped as a "duplicate": with
 * aedes-persistence-level (LevelDB), every retained state published beside a non-retained event
 * was lost to a live subscriber (moscajs/aedes#955, #994; the test in
 * test/integration/mqtt/embedded-broker.test.ts). Here publishes run one at a time: the
 * next is numbered only once the previous one has been handed to its subscribers, that is
 * queued for each (client-queue.ts), so no subscriber's pace holds up the others.
 *
 * The wait is bounded. A client's publishes come from one read of its socket, and aedes
 * reads it again only once every one of them was handed over (lib/client.js `nextBatch`),
 * so a client waiting here sends nothing more: TCP holds the rest. What can pile up is one
 * batch per client plus the broker's own publishes. Past `maxQueued` waiting, a retained
 * message replaces the one still waiting for its topic (it is answered when the newer one
 * is: a retained topic means its latest value, which the newer one carries, in its place
 * in the order).
 * Nothing else is dropped here: an event's QoS 1 PUBACK is sent before it is handed over,
 * so a drop would be a loss no publisher could see, and events wait on their sender's
 * socket instead (the agent's event sink re-reads its own from the event store).
 *
 * Returns a function that undoes the wrapping's timer (call it when the broker closes).
 */
export function orderPublishes(
  broker: Aedes,
  opts: OrderedPublishOptions = {},
): (() => void) & { state(): OrderedPublishState } {
  const target = broker as unknown as { publish: Publish };
  const publish: Publish = target.publish.bind(broker);
  const stallMs = opts.stallMs ?? 5_000;
  const maxQueued = opts.maxQueued ?? 1_000;
  let head: Queued | undefined;
  let tail: Queued | undefined;
  let running: { item: Queued; since: number; finished: boolean } | undefined;
  /** The retained message waiting for each topic. */
  const latest = new Map<string, Queued>();
  let queued = 0;
  let coalesced = 0;

  const take = (): Queued | undefined => {
    for (;;) {
      const item = head;
      if (!item) return undefined;
      head = item.next;
      if (!head) tail = undefined;
      if (item.superseded) continue;
      queued--;
      const topic = item.packet.topic;
      if (topic !== undefined && latest.get(topic) === item) latest.delete(topic);
      return item;
    }
  };

  const runNext = (): void => {
    const item = take();
    if (!item) {
      running = undefined;
      return;
    }
    const run = { item, since: Date.now(), finished: false };
    running = run;
    publish(item.packet, item.client, (err) => {
      if (run.finished) return; // given up on as stalled; the queue has moved on
      run.finished = true;
      // Not from inside aedes' callback stack: a long queue would nest calls.
      queueMicrotask(runNext);
      const replaced = item.replaced;
      const done: Done | undefined = replaced
        ? (e) => {
            for (const d of replaced) d(e);
            item.done?.(e);
          }
        : item.done;
      if (!done) return;
      // The next publish need not wait for this one's commit: they commit together.
      if (opts.durable) opts.durable(() => done(err));
      else done(err);
    });
  };

  target.publish = (packet, client, done) => {
    if (typeof client === 'function') {
      done = client as Done;
      client = undefined;
    }
    const item: Queued = { packet, client, done, next: undefined };
    const topic = packet.retain === true ? packet.topic : undefined;
    if (topic !== undefined) {
      const prior = latest.get(topic);
      if (prior && queued >= maxQueued) {
        prior.superseded = true;
        queued--;
        coalesced++;
        opts.onCoalesce?.(topic);
        // Answered once the newer value is stored in its place, not before.
        const replaced = prior.replaced ?? [];
        if (prior.done) replaced.push(prior.done);
        if (replaced.length > 0) item.replaced = replaced;
      }
      latest.set(topic, item);
    }
    if (tail) tail.next = item;
    else head = item;
    tail = item;
    queued++;
    if (!running) runNext();
  };

  const timer = setInterval(
    () => {
      const run = running;
      if (!run || run.finished || Date.now() - run.since < stallMs) return;
      run.finished = true;
      opts.onStall?.(run.item.packet.topic);
      const stalled = new Error('publish stalled');
      for (const d of run.item.replaced ?? []) d(stalled);
      run.item.done?.(stalled);
      runNext();
    },
    Math.max(10, stallMs / 2),
  );
  timer.unref();
  return Object.assign(() => clearInterval(timer), { state: () => ({ queued, coalesced }) });
}
