import type { Logger } from './logger.js';
import { errorMessage } from './errors.js';

/** The one lifecycle every component has. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts components in order and stops the started ones in reverse.
 * A component that fails to start is logged with its name; the others keep going
 * unless it is marked essential.
 */
export class Lifecycle {
  readonly #log: Logger;
  readonly #started: Component[] = [];

  constructor(log: Logger) {
    this.#log = log;
  }

  async start(component: Component, opts: { essential?: boolean } = {}): Promise<boolean> {
    try {
      await component.start();
      this.#started.push(component);
      this.#log.debug({ component: component.name }, 'started');
      return true;
    } catch (err) {
      this.#log.error({ component: component.name, err: errorMessage(err) }, 'failed to start');
      if (opts.essential) throw err;
      return false;
    }
  }

  /** Records a component that is already running (or needs no start), to stop it in turn. */
  adopt(component: Component): void {
    this.#started.push(component);
  }

  /** Stops everything started, newest first; one failure does not stop the rest. */
  async stopAll(): Promise<void> {
    while (this.#started.length > 0) {
      const c = this.#started.pop()!;
      try {
        await c.stop();
        this.#log.debug({ component: c.name }, 'stopped');
      } catch (err) {
        this.#log.error({ component: c.name, err: errorMessage(err) }, 'failed to stop');
      }
    }
  }
}
