import { Backoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { NewEvent } from '../core/events.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { storageFailure } from '../core/storage-failure.js';
import type { AppendCallback, EventStore } from './event-store.js';
import { droppedEvent } from './overflow.js';
import { heldBytes, SpillQueue, type HeldEvent, type SpillLimits } from './spill-queue.js';

export type { SpillLimits } from './spill-queue.js';

export interface EventSpillOptions {
  store: Pick<EventStore, 'append' | 'enqueue'>;
  limits: SpillLimits;
  clock: Clock;
  log: Logger;
  /** Delay between write attempts while the store refuses; default 1 s doubling to 15 s. */
  retry?: { initialMs: number; maxMs: number };
  /** Jitter source of the retry backoff (tests fix it). */
  random?: () => number;
}

/**
 * Where the agent records its events (issue 13 point 7): straight into the event store,
 * and while the store cannot write (a full disk, a file system turned read-only) into a
 * bounded in-memory spill (spill-queue.ts), retried with backoff and written back, in the
 * order the events happened, when the store takes writes again — followed by one
 * `events_dropped` counting what the spill could not hold. A bug-shaped failure (a
 * malformed event) is logged and not held: retrying would not fix it.
 */
export class EventSpill implements Component {
  readonly name = 'event-spill';
  readonly #o: EventSpillOptions;
  readonly #queue: SpillQueue;
  readonly #backoff: Backoff;
  #order = 0;
  /** The store refused a write: new events go behind the held ones, not around them. */
  #holding = false;
  #flushing: Promise<void> | undefined;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #warnedFull = false;

  constructor(opts: EventSpillOptions) {
    this.#o = opts;
    this.#queue = new SpillQueue(opts.limits);
    this.#backoff = new Backoff({
      ...(opts.retry ?? { initialMs: 1_000, maxMs: 15_000 }),
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /** Events held in memory now. */
  get held(): number {
    return this.#queue.size;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Records an event; never throws. Its time is now, unless it says otherwise. */
  record(e: NewEvent): void {
    const held: HeldEvent = {
      order: this.#order++,
      // Stamped here: written back later, it must keep the time it happened.
      event: e.ts === undefined ? { ...e, ts: this.#o.clock.now() } : e,
      bytes: 0,
    };
    if (this.#holding) return this.#hold(held);
    // enqueue, not append: the agent's every event passes here, and a promise (with its
    // reactions) per event is garbage a callback shared by all of them does not make.
    this.#o.store.enqueue(held.event, this.#written, held);
  }

  readonly #written: AppendCallback<HeldEvent> = (err, _stored, held) => {
    if (err) this.#refused(held, err);
  };

  /** One last write attempt; what still cannot be written is lost, and the log says so. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer();
    await this.#flushing;
    if (this.#queue.size > 0 || this.#queue.dropped()) await this.#flush();
    const lost = this.#queue.takeAll();
    if (lost.length > 0) {
      const bySeverity: Record<string, number> = {};
      for (const h of lost) bySeverity[h.event.severity] = (bySeverity[h.event.severity] ?? 0) + 1;
      this.#o.log.error(
        { lost: lost.length, by_severity: bySeverity },
        'event store still cannot write: held events lost at stop',
      );
    }
  }

  #refused(held: HeldEvent, err: unknown): void {
    if (storageFailure(err) === undefined) {
      this.#o.log.error({ event: held.event, err: errorMessage(err) }, 'event not stored');
      return;
    }
    if (!this.#holding) {
      this.#holding = true;
      const { maxEvents, maxBytes } = this.#o.limits;
      this.#o.log.error(
        { err: errorMessage(err), max_events: maxEvents, max_bytes: maxBytes },
        'event store cannot write: holding events in memory until it can',
      );
    }
    this.#hold(held);
  }

  #hold(h: HeldEvent): void {
    const dropped = this.#queue.push({ ...h, bytes: heldBytes(h.event) });
    if (dropped > 0 && !this.#warnedFull) {
      this.#warnedFull = true;
      this.#o.log.warn(
        { held: this.#queue.size },
        'event spill full: dropping held events, lowest severity first',
      );
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#flushing || this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, this.#backoff.next());
  }

  #cancelTimer(): void {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Writes what is held, in order, then the drop count; re-holds what is refused again. */
  #flush(): Promise<void> {
    this.#flushing ??= this.#writeBack().then((refused) => {
      this.#flushing = undefined;
      this.#afterFlush(refused);
    });
    return this.#flushing;
  }

  /** True when the store refused again: the next attempt waits longer. */
  async #writeBack(): Promise<boolean> {
    const batch = this.#queue.takeAll();
    // In one tick: the store's group commit makes them one transaction, in this order.
    const results = await Promise.allSettled(batch.map((h) => this.#o.store.append(h.event)));
    let refused = false;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const h = batch[i]!;
      if (storageFailure(r.reason) === undefined) {
        this.#o.log.error({ event: h.event, err: errorMessage(r.reason) }, 'event not stored');
      } else {
        refused = true;
        this.#queue.push(h);
      }
    });
    const dropped = this.#queue.dropped();
    if (refused || !dropped) return refused;
    // After the events it stands for, so a reader meets it where the gap is.
    return this.#o.store.append(droppedEvent(dropped)).then(
      () => {
        this.#queue.clearDropped();
        this.#o.log.warn(dropped, 'events the spill could not hold recorded as events_dropped');
        return false;
      },
      (err: unknown) => {
        if (storageFailure(err) !== undefined) return true; // kept for the next attempt
        this.#queue.clearDropped();
        this.#o.log.error({ err: errorMessage(err), dropped }, 'events_dropped not stored');
        return false;
      },
    );
  }

  #afterFlush(refused: boolean): void {
    if (!refused) this.#backoff.reset();
    if (this.#queue.size > 0 || this.#queue.dropped()) return this.#schedule();
    if (this.#holding) this.#o.log.info('event store writable again: held events written');
    this.#holding = false;
    this.#warnedFull = false;
  }
}
