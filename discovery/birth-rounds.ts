import type { Clock, TimerHandle } from '../src/core/clock.js';

export interface BirthRoundsOptions {
  readonly clock: Clock;
  /** At most one round starts in this long; 0 lets every birth outside a round start one. */
  readonly cooldownMs: number;
  /** Queues a republish round; the round calls began() when it really starts. */
  readonly queue: () => void;
  /** Told once per wait that births came during the cooldown. */
  readonly deferred?: (ms: number) => void;
}

/**
 * Turns Home Assistant's birth messages into republish rounds (HA_DOCS.birth), bounded: at
 * most one round starts per cooldown, however many births arrive (issue 13, point 5). A
 * birth while a round is queued or waiting adds nothing; a birth during the cooldown after
 * a round started schedules exactly one more at its end. So a flood of births costs at most
 * one round per cooldown, and the last birth of it is always answered by a round.
 */
export class BirthRounds {
  readonly #o: BirthRoundsOptions;
  /** idle: no round owed; waiting: one owed at the cooldown's end; queued: handed over. */
  #state: 'idle' | 'waiting' | 'queued' = 'idle';
  #births = 0;
  #lastStart: number | undefined;
  #timer: TimerHandle | undefined;

  constructor(opts: BirthRoundsOptions) {
    this.#o = opts;
  }

  /** One birth message. */
  birth(): void {
    this.#births++;
    if (this.#state !== 'idle') return;
    const wait = this.#waitLeft();
    if (wait <= 0) return this.#queue();
    this.#state = 'waiting';
    this.#arm(wait);
    this.#o.deferred?.(wait);
  }

  /** The round starts now: returns how many births it answers. */
  began(): number {
    const births = this.#births;
    this.#births = 0;
    this.#lastStart = this.#o.clock.now();
    if (this.#state === 'queued') this.#state = 'idle';
    return births;
  }

  stop(): void {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = 'idle';
  }

  #waitLeft(): number {
    if (this.#lastStart === undefined) return 0;
    return this.#lastStart + this.#o.cooldownMs - this.#o.clock.now();
  }

  #arm(ms: number): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      // A timer may fire a little early on the wall clock: the cooldown is the clock's.
      const left = this.#waitLeft();
      if (left > 0) this.#arm(left);
      else this.#queue();
    }, ms);
  }

  #queue(): void {
    this.#state = 'queued';
    this.#o.queue();
  }
}
