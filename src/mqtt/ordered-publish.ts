import type { Aedes } from 'aedes';

type Done = (err?: Error | null) => void;
type Publish = (packet: { topic?: string }, client?: unknown, done?: Done) => void;

interface Queued {
  readonly packet: { topic?: string };
  readonly client: unknown;
  readonly done: Done | undefined;
  next: Queued | undefined;
}

export interface OrderedPublishOptions {
  /** A publish whose steps have not called back after this long is given up on. */
  readonly stallMs?: number;
  onStall?(topic: string | undefined): void;
  /**
   * Calls back once what the broker stored so far is on disk (the retained store commits
   * a turn's messages at once): a publish is acknowledged (PUBACK) only then.
   */
  durable?(done: () => void): void;
}

/**
 * Makes aedes deliver messages in the order it numbers them.
 *
 * aedes numbers every message (`brokerCounter`) and forwards one to a client only if its
 * number is above the last one that client got (lib/client.js `dedupe`, meant for
 * overlapping subscriptions). A message's steps before delivery are asynchronous where
 * persistence is (storing a retained message in LevelDB, queueing for offline sessions),
 * so a later message overtakes an earlier one, which is then dropped as a "duplicate":
 * with aedes-persistence-level, every retained state published beside a non-retained event
 * was lost to a live subscriber (moscajs/aedes#955, #994; the test in
 * test/integration/mqtt/embedded-broker.test.ts). Here publishes run one at a time: the
 * next is numbered only once the previous one has been handed to its subscribers, that is
 * queued for each (client-queue.ts), so no subscriber's pace holds up the others.
 *
 * Returns a function that undoes the wrapping's timer (call it when the broker closes).
 */
export function orderPublishes(broker: Aedes, opts: OrderedPublishOptions = {}): () => void {
  const target = broker as unknown as { publish: Publish };
  const publish: Publish = target.publish.bind(broker);
  const stallMs = opts.stallMs ?? 5_000;
  let head: Queued | undefined;
  let tail: Queued | undefined;
  let running: { item: Queued; since: number; finished: boolean } | undefined;

  const runNext = (): void => {
    const item = head;
    if (!item) {
      running = undefined;
      return;
    }
    head = item.next;
    if (!head) tail = undefined;
    const run = { item, since: Date.now(), finished: false };
    running = run;
    publish(item.packet, item.client, (err) => {
      if (run.finished) return; // given up on as stalled; the queue has moved on
      run.finished = true;
      // Not from inside aedes' callback stack: a long queue would nest calls.
      queueMicrotask(runNext);
      const done = item.done;
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
    if (tail) tail.next = item;
    else head = item;
    tail = item;
    if (!running) runNext();
  };

  const timer = setInterval(
    () => {
      const run = running;
      if (!run || run.finished || Date.now() - run.since < stallMs) return;
      run.finished = true;
      opts.onStall?.(run.item.packet.topic);
      run.item.done?.(new Error('publish stalled'));
      runNext();
    },
    Math.max(10, stallMs / 2),
  );
  timer.unref();
  return () => clearInterval(timer);
}
