import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../../core/logger.js';
import { StateFile } from '../../../core/state-file.js';

/** `<data_dir>/smart.json`: each drive's reallocated count as last read. */
export const SMART_FILE = 'smart.json';

const fileSchema = z.strictObject({
  version: z.literal(1),
  /** host → drive id (`serial:<serial>`, else `device:<key>`) → reallocated count. */
  hosts: z.record(z.string(), z.record(z.string(), z.number().int().nonnegative())),
});
type SmartFile = z.output<typeof fileSchema>;

/**
 * The reallocated count each drive had when last read, kept across restarts: a drive that
 * reallocated sectors while the agent was down is news at the first reading after, not
 * silently the new baseline. Drives are known by serial number where smartctl gives one,
 * so a replaced drive behind the same `/dev/sda` starts from its own count, not the old
 * drive's. Written only when a count changes.
 */
export class SmartBaselines {
  readonly #file: StateFile<SmartFile>;
  readonly #data: SmartFile;

  constructor(dataDir: string, log: Logger) {
    this.#file = new StateFile(join(dataDir, SMART_FILE), fileSchema, log);
    this.#data = this.#file.load() ?? { version: 1, hosts: {} };
  }

  get(host: string, drive: string): number | undefined {
    return this.#data.hosts[host]?.[drive];
  }

  set(host: string, drive: string, reallocated: number): void {
    const known = (this.#data.hosts[host] ??= {});
    if (known[drive] === reallocated) return;
    known[drive] = reallocated;
    this.#file.save(this.#data);
  }
}

/** How a drive is known in the baselines: its serial number, else its device key. */
export function driveId(serial: string | null, key: string): string {
  return serial ? `serial:${serial}` : `device:${key}`;
}
