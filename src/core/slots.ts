/**
 * A counting semaphore: at most `size` holders at once, the rest waiting first come, first
 * served. The agent has two: remote container polls (collectors/containers: only a few
 * engine answers read and parsed at a time, so their memory does not stack up) and SSH
 * handshakes (hosts/ssh-pool.ts: sshd refuses unauthenticated connections past its
 * `MaxStartups`). Waiting for a slot never counts against the work's own timeout.
 */
export class Slots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  /** `what` names the slots in the error for a bad size. */
  constructor(size: number, what: string) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`${what}: expected a whole number ≥ 1, got ${size}`);
    }
    this.#size = size;
  }

  /** Holders now. */
  get busy(): number {
    return this.#busy;
  }

  /** Waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves with the slot's release once one is free. The release may be called more
   * than once; only the first counts.
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
