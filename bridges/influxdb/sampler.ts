import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { NewEvent } from '../../src/core/events.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { TopicRoot } from '../../src/core/topics.js';
import type { RetainedState } from '../../src/mqtt/state-publisher.js';
import { sampleEvent } from './sample.js';

export interface StateSamplerOptions {
  root: TopicRoot;
  hostIds: readonly string[];
  /** The agent's retained states now (the StatePublisher's `current()`). */
  states(): Iterable<RetainedState>;
  /** Stores the sample event (straight to the store: a measurement, not an alert). */
  record(e: NewEvent): void;
  intervalMs: number;
  clock: Clock;
}

/** Samples the agent's states into the event store every interval (sample.ts says why). */
export class StateSampler implements Component {
  readonly name = 'influxdb-sampler';
  readonly #o: StateSamplerOptions;
  #timer: TimerHandle | undefined;
  #running = false;

  constructor(opts: StateSamplerOptions) {
    this.#o = opts;
  }

  start(): Promise<void> {
    this.#running = true;
    this.#schedule();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** Takes one sample now. */
  sample(): void {
    const { root, hostIds, clock } = this.#o;
    const e = sampleEvent(root, hostIds, this.#o.states(), clock.now());
    if (e) this.#o.record(e);
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.sample();
      this.#schedule();
    }, this.#o.intervalMs);
  }
}
