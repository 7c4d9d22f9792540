/**
 * At most `limit` sends awaiting their acknowledgement at once: a round over thousands of
 * configs hands the MQTT client a window of them, never the whole site's payloads (which
 * an unpaced round would otherwise queue all at once).
 */
export class InFlightWindow {
  readonly #limit: number;
  #count = 0;
  #wake: (() => void) | undefined;

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`in-flight limit ${limit}: expected 1 or more`);
    this.#limit = limit;
  }

  /** Waits for room, then starts `send`; resolves once it started (not once it settled). */
  async start(send: () => Promise<void>): Promise<void> {
    while (this.#count >= this.#limit) await this.#settled();
    this.#count++;
    const done = () => {
      this.#count--;
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    };
    send().then(done, done);
  }

  /** Resolves once every started send has settled. */
  async drain(): Promise<void> {
    while (this.#count > 0) await this.#settled();
  }

  /** How many sends are awaiting their acknowledgement now. */
  get inFlight(): number {
    return this.#count;
  }

  // One waiter at a time: a round starts its sends one after another.
  #settled(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }
}
