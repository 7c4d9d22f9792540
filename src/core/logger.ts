import { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Keys whose values are never logged, wherever they sit in a log object. */
const SECRET_KEY =
  /pass(word|phrase)?|secret|token|private_?key|^key$|key_?file_?content|authorization|credential/i;
const REDACTED = '[redacted]';

/** A copy of `value` with every secret-looking key's value replaced. */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') {
    return typeof value === 'string' ? scrubUrlCredentials(value) : value;
  }
  if (value instanceof Error) {
    return { type: value.name, message: scrubUrlCredentials(value.message) };
  }
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : scrubSecrets(v, depth + 1);
  }
  return out;
}

/** `mqtt://user:pass@host` → `mqtt://user:[redacted]@host`. */
export function scrubUrlCredentials(s: string): string {
  return s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+):[^\s/@]+@/gi, `$1:${REDACTED}@`);
}

/**
 * A stream that replaces every known secret value before the line reaches the
 * destination: the last line of defence for secrets inside messages or stack traces.
 */
export class SecretFilterStream extends Writable {
  readonly #secrets: string[];
  readonly #dest: NodeJS.WritableStream;

  constructor(secrets: Iterable<string>, dest: NodeJS.WritableStream) {
    super({ decodeStrings: false });
    // Longest first, so a secret that contains another is replaced whole; very short
    // values are skipped (they would redact ordinary words).
    this.#secrets = [...new Set(secrets)]
      .filter((s) => s.length >= 4)
      .sort((a, b) => b.length - a.length);
    this.#dest = dest;
  }

  override _write(
    chunk: Buffer | string,
    _enc: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    let line = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (const s of this.#secrets) {
      if (line.includes(s)) line = line.split(s).join(REDACTED);
      const escaped = JSON.stringify(s).slice(1, -1);
      if (escaped !== s && line.includes(escaped)) line = line.split(escaped).join(REDACTED);
    }
    // The destination buffers on its own; waiting for it would reorder nothing but delay all.
    this.#dest.write(line);
    cb();
  }
}

export interface LoggerOptions {
  level: LogLevel;
  /** Values (passwords, tokens) that must never be written, whatever field holds them. */
  secrets?: Iterable<string>;
  /** Human-readable output; defaults to on when stdout is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

/** The agent's logger: pino JSON, readable on a terminal, secrets scrubbed twice. */
export function createLogger(opts: LoggerOptions): Logger {
  const out = opts.destination ?? process.stdout;
  const filtered = new SecretFilterStream(opts.secrets ?? [], out);
  const pretty = opts.pretty ?? (out === process.stdout && process.stdout.isTTY === true);
  const dest: DestinationStream = pretty
    ? loadPretty()({
        destination: filtered,
        colorize: true,
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
      })
    : filtered;
  return pino(
    {
      level: opts.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrubSecrets(obj) as Record<string, unknown>,
      },
    },
    dest,
  );
}

/** pino-pretty costs memory at every start; load it only when a terminal will read the log. */
function loadPretty(): typeof PinoPretty {
  const require = createRequire(import.meta.url);
  return require('pino-pretty') as typeof PinoPretty;
}

/** A logger that writes nothing: for tests and for commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
