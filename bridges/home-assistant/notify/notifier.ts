import { Backoff } from '../../../src/core/backoff.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';
import { errorMessage } from '../../../src/core/errors.js';
import type { StoredEvent } from '../../../src/core/events.js';
import type { Component } from '../../../src/core/lifecycle.js';
import type { Logger } from '../../../src/core/logger.js';
import type { EventStore } from '../../../src/store/event-store.js';
import type { NotifyRoute } from '../config.js';
import { HaError } from '../errors.js';
import type { HaLink } from '../link.js';
import { compose, notifiable, type OutMessage } from './messages.js';
import type { SentJournal } from './sent-journal.js';

/** The notifier's cursor in the event store. */
export const NOTIFY_SINK = 'home-assistant-notify';

export interface NotifierOptions {
  readonly store: EventStore;
  readonly link: HaLink;
  readonly routes: readonly NotifyRoute[];
  readonly groupWindowMs: number;
  readonly staleAfterMs: number;
  readonly retry: { initialMs: number; maxMs: number };
  readonly clock: Clock;
  readonly log: Logger;
  /** Services HA does not have, and the backlog, changed. */
  onStatus(s: { missing: string[]; backlog: number }): void;
  /** Where the keys sent past the cursor are kept across a crash; none: only in memory. */
  readonly journal?: SentJournal;
}

/** Events read per round, at most: a long outage drains in rounds. */
const BATCH = 200;

/**
 * Alerts out through Home Assistant's notify services (issue 18, point 3): a sink on the
 * event store with its own cursor, like the uplink. While HA is unreachable nothing is
 * read and the alerts wait on disk; when it returns they go out, the stale ones summarised.
 * Messages go out in the order of their first event; after each one HA accepted, its key
 * is written to the journal and the cursor moves past every event all of whose messages
 * went. A message already sent (in memory, or in the journal after a crash) is not sent
 * again, so a crash repeats at most the one message HA had not answered yet.
 */
export class Notifier implements Component {
  readonly name = 'home-assistant-notify';
  readonly #o: NotifierOptions;
  readonly #backoff: Backoff;
  /** Keys of messages HA accepted in the round not yet acknowledged. */
  readonly #sent = new Set<string>();
  /** Services HA said it does not have: one error each, not one per message. */
  readonly #missing = new Set<string>();
  /** Other failures already logged, per service and HA code. */
  readonly #reported = new Set<string>();
  #cursor = 0;
  #journalFailed = false;
  #running = false;
  #pumping = false;
  #again = false;
  #timer: TimerHandle | undefined;
  #unsubscribe: () => void = () => undefined;

  constructor(o: NotifierOptions) {
    this.#o = o;
    this.#backoff = new Backoff(o.retry);
  }

  async start(): Promise<void> {
    // A first start begins now: years of history are not news to anyone's phone.
    this.#cursor = await this.#o.store.registerSink(NOTIFY_SINK, { startAt: 'now' });
    for (const k of this.#o.journal?.load(this.#cursor) ?? []) this.#sent.add(k);
    this.#running = true;
    this.#unsubscribe = this.#o.store.onAppend(() => this.wake());
    this.wake();
  }

  stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe();
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** Something may be sendable now: a new event, or HA is back. */
  wake(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        await this.#round();
      } while (this.#again && this.#running);
    } catch (err) {
      this.#o.log.warn({ err: errorMessage(err) }, 'notifications: round failed');
      this.#retryLater();
    } finally {
      this.#pumping = false;
    }
    void this.#status();
  }

  /** Reads, sends and acknowledges until the store has nothing more, or HA fails. */
  async #round(): Promise<void> {
    while (this.#running && this.#o.link.connected) {
      const events = await this.#o.store.readAfter(NOTIFY_SINK, BATCH, this.#cursor);
      if (events.length === 0) return;
      const now = this.#o.clock.now();
      const wait = events.length < BATCH ? this.#burstWait(events, now) : 0;
      if (wait > 0) {
        this.#later(wait);
        return;
      }
      const messages = compose(events, {
        routes: this.#o.routes,
        now,
        staleAfterMs: this.#o.staleAfterMs,
      }).sort((a, b) => Math.min(...a.seqs) - Math.min(...b.seqs));
      for (const m of messages) {
        if (this.#sent.has(m.key)) continue;
        if (!(await this.#send(m))) {
          this.#retryLater();
          return;
        }
        this.#record();
        const upTo = doneUpTo(messages, (r) => this.#sent.has(r.key));
        if (upTo !== undefined && upTo > this.#cursor) await this.#ack(upTo, messages);
      }
      await this.#ack(events[events.length - 1]!.seq, []);
      this.#backoff.reset();
    }
  }

  /** Moves the cursor to `seq`, keeping the keys of the messages still reaching past it. */
  async #ack(seq: number, messages: readonly OutMessage[]): Promise<void> {
    await this.#o.store.ack(NOTIFY_SINK, seq);
    this.#cursor = seq;
    const past = new Set(messages.filter((m) => Math.max(...m.seqs) > seq).map((m) => m.key));
    for (const k of this.#sent) if (!past.has(k)) this.#sent.delete(k);
    this.#record();
  }

  /** The journal after a send or an ack; a refusing disk leaves the keys in memory only. */
  #record(): void {
    try {
      this.#o.journal?.save({ after: this.#cursor, keys: [...this.#sent] });
    } catch (err) {
      if (this.#journalFailed) return;
      this.#journalFailed = true;
      this.#o.log.warn(
        { err: errorMessage(err) },
        'notify journal not written: a crash now may repeat the notifications of this round',
      );
    }
  }

  /**
   * How long to hold a burst: until the first fresh alert is `group_window` old, so those
   * that follow it within the window go out in the same message.
   */
  #burstWait(events: readonly StoredEvent[], now: number): number {
    const fresh = events
      .filter(notifiable)
      .map((e) => Date.parse(e.ts))
      .filter((ts) => now - ts <= this.#o.staleAfterMs);
    if (fresh.length === 0) return 0;
    return Math.max(0, Math.min(...fresh) + this.#o.groupWindowMs - now);
  }

  /** True when HA took it (or will never take it: dropped with one error); false to retry. */
  async #send(m: OutMessage): Promise<boolean> {
    const service = m.service.slice('notify.'.length);
    try {
      await this.#o.link.call({
        type: 'call_service',
        domain: 'notify',
        service,
        service_data: { title: m.title, message: m.message, ...(m.data ? { data: m.data } : {}) },
      });
      this.#sent.add(m.key);
      if (this.#missing.delete(m.service)) {
        this.#o.log.info({ service: m.service }, 'notify service is back in Home Assistant');
      }
      return true;
    } catch (err) {
      if (!(err instanceof HaError) || err.code !== 'failed') {
        this.#o.log.warn(
          { service: m.service, err: errorMessage(err) },
          'notification not sent yet',
        );
        return false;
      }
      this.#dropped(m, err);
      this.#sent.add(m.key);
      return true;
    }
  }

  /** HA refused the call itself: retrying the same call would be refused again. */
  #dropped(m: OutMessage, err: HaError): void {
    if (err.haCode === 'not_found') {
      if (this.#missing.has(m.service)) return;
      this.#missing.add(m.service);
      this.#o.log.error(
        { service: m.service, ha: err.message },
        `${m.service} does not exist in Home Assistant: expected a notify service such as notify.telegram_ops (home_assistant.notify); its messages are dropped until it exists`,
      );
      return;
    }
    const key = `${m.service}\u0000${err.haCode ?? ''}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#o.log.error(
      { service: m.service, ha: err.message },
      `Home Assistant refused a notification through ${m.service}: dropped (further refusals of this kind are not logged)`,
    );
  }

  #retryLater(): void {
    this.#later(this.#backoff.next());
  }

  #later(ms: number): void {
    if (!this.#running) return;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.wake();
    }, ms);
  }

  async #status(): Promise<void> {
    try {
      const b = await this.#o.store.backlog(NOTIFY_SINK);
      this.#o.onStatus({ missing: [...this.#missing], backlog: b.count });
    } catch {
      // A store that cannot say its backlog now says it next round.
    }
  }
}

/**
 * The last seq the cursor may pass: every event before the first one a message still to go
 * carries, and never into a message's events (a grouped one read again from its middle
 * would be a different message). Undefined while every message is sent: the batch's end.
 */
export function doneUpTo(
  messages: readonly OutMessage[],
  sent: (m: OutMessage) => boolean,
): number | undefined {
  const rest = messages.filter((m) => !sent(m));
  if (rest.length === 0) return undefined;
  let upTo = Math.min(...rest.flatMap((m) => m.seqs)) - 1;
  for (let moved = true; moved;) {
    moved = false;
    for (const m of messages) {
      const lo = Math.min(...m.seqs);
      if (lo <= upTo && upTo < Math.max(...m.seqs)) {
        upTo = lo - 1;
        moved = true;
      }
    }
  }
  return upTo;
}
