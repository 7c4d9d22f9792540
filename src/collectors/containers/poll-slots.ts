/**
 * A counting semaphore for remote polls: the SSH hosts' collectors share one, so that
 * however many hosts poll at the same moment (all of them, right after the agent starts
 * or a network comes back), only a few engine answers are read and parsed at a time and
 * their memory does not stack up. Waiting for a slot does not count against the command's
 * timeout, which starts when the command is sent.
 */
export class PollSlots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!(size >= 1)) throw new RangeError(`poll slots: expected 1 or more, got ${size}`);
    this.#size = size;
  }

  /** Polls running now. */
  get busy(): number {
    return this.#busy;
  }

  /** Polls waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves with the slot's release function once a slot is free (first come, first served). */
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
