import { errorMessage } from '../../core/errors.js';
import type { Probe } from './probe.js';
import { sizeCommand } from './remote-scripts.js';

/**
 * The backup's size from rsync's `--stats` summary: "Total file size: 1,234,567 bytes"
 * (rsync 3.1+ groups digits with commas, older ones do not). `-h` prints "1.23M", which is
 * not read: a rounded figure would look exact in Home Assistant.
 */
export function rsyncStatsSize(stdout: string): number | undefined {
  const m = /^Total file size: ([\d,.]+) bytes/m.exec(stdout);
  if (!m) return undefined;
  const digits = m[1]!.replace(/[,.]/g, '');
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The size of `path` as `du -sk` counts it, in bytes; an error in words otherwise. */
export async function pathSize(
  probe: Probe,
  path: string,
  timeoutMs: number,
): Promise<{ size: number } | { error: string }> {
  try {
    const out = (await probe(sizeCommand(path), timeoutMs)).trim();
    if (!/^\d+$/.test(out)) return { error: `du printed no size for ${path}` };
    return { size: Number(out) * 1024 };
  } catch (err) {
    return { error: `size of ${path}: ${errorMessage(err)}` };
  }
}
