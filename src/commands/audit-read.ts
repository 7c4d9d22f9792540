import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { errorMessage } from '../core/errors.js';
import { rotatedNumbers, rotatedPath } from './audit-files.js';
import type { AuditEntry } from './audit.js';

export interface AuditQuery {
  since?: number;
  until?: number;
  action?: readonly string[];
  target?: string;
}

/** What `readAudit` found: the matching entries, oldest first, and how each file went. */
export interface AuditRead {
  entries: AuditEntry[];
  /** Damaged lines skipped, in all files. */
  damaged: number;
  /** The files read to the end, oldest first, with the damaged lines in each. */
  files: { path: string; damaged: number }[];
  /** The files that could not be read, or not to the end (their lines before it are kept). */
  unreadable: { path: string; error: string }[];
}

/**
 * Reads the audit log and its rotated files (`audit.<n>.jsonl`, the highest number the
 * oldest) line by line, oldest first; a damaged line is counted, not fatal.
 */
export async function readAudit(current: string, q: AuditQuery = {}): Promise<AuditRead> {
  const read: AuditRead = { entries: [], damaged: 0, files: [], unreadable: [] };
  for (const { path, fh } of (await openNewestFirst(current, read)).reverse()) {
    let damaged = 0;
    try {
      const input = fh.createReadStream({ encoding: 'utf8', autoClose: false });
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (line.trim() === '') continue;
        const e = parseLine(line);
        if (!e) damaged++;
        else if (matches(e, q)) read.entries.push(e);
      }
      read.files.push({ path, damaged });
    } catch (err) {
      read.unreadable.push({ path, error: errorMessage(err) });
    } finally {
      read.damaged += damaged;
      await fh.close().catch(() => undefined);
    }
  }
  return read;
}

/**
 * Opens every file before reading any, the current one first: the agent may rotate while
 * this runs, and an open file keeps its lines whatever it is renamed to. A file met twice
 * under two names (rotated in between) is read once, so nothing is read twice and nothing
 * listed is missed but what the rotation deleted.
 */
async function openNewestFirst(
  current: string,
  read: AuditRead,
): Promise<{ path: string; fh: FileHandle }[]> {
  let numbers: number[] = [];
  try {
    numbers = rotatedNumbers(current);
  } catch (err) {
    read.unreadable.push({ path: dirname(current), error: errorMessage(err) });
  }
  const opened: { path: string; fh: FileHandle }[] = [];
  const seen = new Set<string>();
  for (const path of [0, ...numbers].map((n) => rotatedPath(current, n))) {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      // Not there: no audit yet, or rotated away since the listing.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        read.unreadable.push({ path, error: errorMessage(err) });
      continue;
    }
    const { dev, ino } = await fh.stat();
    if (seen.has(`${dev}:${ino}`)) {
      await fh.close();
      continue;
    }
    seen.add(`${dev}:${ino}`);
    opened.push({ path, fh });
  }
  return opened;
}

function parseLine(line: string): AuditEntry | undefined {
  try {
    const v = JSON.parse(line) as Partial<AuditEntry> | null;
    if (typeof v?.ts !== 'string' || typeof v.kind !== 'string' || Number.isNaN(Date.parse(v.ts)))
      return undefined;
    return v as AuditEntry;
  } catch {
    return undefined;
  }
}

function matches(e: AuditEntry, q: AuditQuery): boolean {
  const t = Date.parse(e.ts);
  if (q.since !== undefined && t < q.since) return false;
  if (q.until !== undefined && t >= q.until) return false;
  if (q.action && !q.action.includes(e.action)) return false;
  if (q.target !== undefined && e.target !== q.target) return false;
  return true;
}
