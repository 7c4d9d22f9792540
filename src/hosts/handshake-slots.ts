/**
 * How many SSH handshakes may be under way at once, across every host of the agent.
 *
 * An agent that starts (or whose network comes back) opens every host's connection at the
 * same moment. Each handshake costs a key exchange on both ends, and sshd refuses
 * unauthenticated connections past its `MaxStartups` (10 by default, then at random):
 * 200 hosts dialled at once meant refused handshakes, each retried after a backoff, and
 * all of that work on the loop the embedded broker shares. With the slots, hosts wait their
 * turn; the wait does not count against a handshake's `readyTimeout`, which starts when
 * the host is dialled.
 */
export class HandshakeSlots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`ssh handshake slots: expected a whole number ≥ 1, got ${size}`);
    }
    this.#size = size;
  }

  /** Handshakes under way now. */
  get busy(): number {
    return this.#busy;
  }

  /** Hosts waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves with the slot's release once one is free, first come first served. The
   * release may be called more than once; only the first counts.
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.#busy++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#busy--;
          this.#waiting.shift()?.();
        });
      };
      if (this.#busy < this.#size) grant();
      else this.#waiting.push(grant);
    });
  }
}
