import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../../src/core/logger.js';

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A logger whose lines land in an array. */
export function memoryLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
      cb();
    },
  });
  const log = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, sink);
  return { log, lines };
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/** The lines of a journal file, without the final newline's empty tail. */
export function linesOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
}
