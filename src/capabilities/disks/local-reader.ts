import { readFile, statfs } from 'node:fs/promises';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { parseMountinfo } from './mountinfo.js';
import { selectMounts, type MountRules } from './selection.js';
import { usedPercent, type DiskReader, type DiskReading, type MountReading } from './types.js';

export interface LocalReaderOptions {
  readonly rules: MountRules;
  /** A statfs slower than this (a dead network mount) is that mount's error, not a hang. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Default /proc/self/mountinfo. */
  readonly mountinfoPath?: string;
}

/** The agent's own machine: its mount table, and statfs(2) on each chosen mount. */
export class LocalDiskReader implements DiskReader {
  readonly #o: LocalReaderOptions;

  constructor(opts: LocalReaderOptions) {
    this.#o = opts;
  }

  async read(): Promise<DiskReading> {
    let text: string;
    try {
      text = await readFile(this.#o.mountinfoPath ?? '/proc/self/mountinfo', 'utf8');
    } catch (err) {
      return { complete: false, error: `cannot read the mount table: ${errorMessage(err)}` };
    }
    const { entries } = parseMountinfo(text);
    const chosen = selectMounts(entries, this.#o.rules);
    const mounts = await Promise.all(chosen.map((m) => this.#measure(m.mount, m.fstype)));
    return { complete: true, mounts };
  }

  async #measure(mount: string, fstype: string): Promise<MountReading> {
    try {
      const s = await this.#withTimeout(statfs(mount, { bigint: true }));
      const size = Number(s.blocks * s.bsize);
      const used = Number((s.blocks - s.bfree) * s.bsize);
      const free = Number(s.bavail * s.bsize);
      if (size === 0) return { mount, fstype, error: 'statfs reports no size (not a disk)' };
      const files = Number(s.files);
      const inodesUsedPct =
        files > 0 ? Math.round(((files - Number(s.ffree)) / files) * 1000) / 10 : null;
      const usage = { size, used, free, usedPct: usedPercent(used, free), inodesUsedPct };
      return { mount, fstype, usage };
    } catch (err) {
      return { mount, fstype, error: `statfs failed: ${errorMessage(err)}` };
    }
  }

  #withTimeout<T>(p: Promise<T>): Promise<T> {
    const { clock, timeoutMs } = this.#o;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => reject(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      p.then(resolve, reject).finally(() => clock.clearTimeout(timer));
    });
  }
}
