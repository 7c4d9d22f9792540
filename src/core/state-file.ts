import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { z } from 'zod';
import { writeFileAtomicSync } from './atomic-file.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * A small JSON file in the data dir holding what must survive a restart of the agent
 * (open incidents, restart budgets, flap state). Written whole and atomically on each
 * change (src/core/atomic-file.ts), so a crash leaves the old content or the new, never
 * half. A damaged file is moved aside, not overwritten, and the agent starts without it.
 */
export class StateFile<T> {
  readonly path: string;
  readonly #schema: z.ZodType<T>;
  readonly #log: Logger;
  #failing = false;

  constructor(path: string, schema: z.ZodType<T>, log: Logger) {
    this.path = path;
    this.#schema = schema;
    this.#log = log;
  }

  /** The saved value; undefined when there is none or it is damaged (then logged). */
  load(): T | undefined {
    if (!existsSync(this.path)) return undefined;
    let problem: string;
    try {
      const parsed = this.#schema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (parsed.success) return parsed.data;
      problem = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
    } catch (err) {
      problem = errorMessage(err);
    }
    const aside = `${this.path}.damaged`;
    try {
      renameSync(this.path, aside);
    } catch {
      // Left in place: the next save replaces it, and the problem is logged below.
    }
    this.#log.warn({ file: this.path, moved_to: aside, problem }, 'state file damaged: ignored');
    return undefined;
  }

  /**
   * Replaces the file; false when it could not be written (a full or read-only disk): the
   * agent keeps the state in memory and says so once until a write succeeds again.
   */
  save(value: T): boolean {
    try {
      writeFileAtomicSync(this.path, `${JSON.stringify(value)}\n`, { mode: 0o640 });
      if (this.#failing) this.#log.info({ file: this.path }, 'state file written again');
      this.#failing = false;
      return true;
    } catch (err) {
      if (!this.#failing) {
        this.#log.error(
          { file: this.path, err: errorMessage(err) },
          'state file not written: kept in memory only until it can be',
        );
      }
      this.#failing = true;
      return false;
    }
  }
}
