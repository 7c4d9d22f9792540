import { z } from 'zod';
import type { ContainerObservation } from '../collectors/containers/types.js';
import type { StateFile } from '../core/state-file.js';
import type { AlertTrack } from './hysteresis.js';

/**
 * Since when each critical container has been down while its alert waits for
 * `containers.down_after` (`<data_dir>/down-since.json`). Without it, an agent restart in
 * that wait restarts the clock at the container's last stop — a crash-looping container's
 * last crash, or the agent's start when the engine gives no time — and the alert comes
 * late by up to the time the agent was away. Open alerts are kept by the incidents book;
 * this keeps only the ones not yet raised. Written on a change, so rarely.
 */

export const DOWN_CLOCKS_FILE = 'down-since.json';
export const downClocksFileSchema = z.strictObject({
  version: z.literal(1),
  /** `<host>/<container key>` → epoch ms the outage began. */
  since: z.record(z.string(), z.number()),
});
export type DownClocksFile = z.output<typeof downClocksFileSchema>;

export class DownClocks {
  readonly #since = new Map<string, number>();
  readonly #file: StateFile<DownClocksFile> | undefined;

  constructor(file?: StateFile<DownClocksFile>) {
    this.#file = file;
    for (const [k, v] of Object.entries(file?.load()?.since ?? {})) this.#since.set(k, v);
  }

  /** `down` while a clock is kept for the container (its condition before a restart). */
  was(host: string, key: string): 'down' | undefined {
    return this.#since.has(`${host}/${key}`) ? 'down' : undefined;
  }

  /**
   * The down-since to start a container's first track with after a restart: the kept
   * clock when the outage it measured is the one still going on, else `since` (the
   * verdict's). A container that ran longer than `stableAfterMs` after the kept clock came
   * back in between: that outage ended, and this one began at its own `since`.
   */
  resumed(host: string, o: ContainerObservation, since: number, stableAfterMs: number): number {
    const kept = this.#since.get(`${host}/${o.key}`);
    if (kept === undefined || kept >= since) return since;
    const started = o.startedAt ? Date.parse(o.startedAt) : Number.NaN;
    if (Number.isNaN(started) || started <= kept) return kept;
    const ranMs = since - started; // its last run, from its start to its stop
    return ranMs < Math.max(stableAfterMs, 1) ? kept : since;
  }

  /** Keeps the clock of a down alert still waiting, and forgets any other. */
  note(host: string, key: string, track: AlertTrack | undefined): void {
    const id = `${host}/${key}`;
    const waiting = track?.observed === 'down' && track.alerted !== 'down';
    const was = this.#since.get(id);
    if (waiting && was === track.since) return;
    if (!waiting && was === undefined) return;
    if (waiting) this.#since.set(id, track.since);
    else this.#since.delete(id);
    this.#save();
  }

  /** After a host's first complete listing: clocks of containers it no longer has go. */
  prune(host: string, present: ReadonlySet<string>): void {
    let changed = false;
    for (const id of [...this.#since.keys()]) {
      if (id.startsWith(`${host}/`) && !present.has(id.slice(host.length + 1))) {
        this.#since.delete(id);
        changed = true;
      }
    }
    if (changed) this.#save();
  }

  #save(): void {
    this.#file?.save({ version: 1, since: Object.fromEntries(this.#since) });
  }
}
