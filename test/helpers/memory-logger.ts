import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/core/logger.js';

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose lines land in an array, to assert what was logged. */
export function memoryLogger(level: 'debug' | 'info' = 'info'): {
  log: Logger;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
      cb();
    },
  });
  const log = pino({ level, formatters: { level: (label) => ({ level: label }) } }, sink);
  return { log, lines };
}
