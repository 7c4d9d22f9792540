import { randomFillSync } from 'node:crypto';

/**
 * ULIDs (https://github.com/ulid/spec): 48 bits of ms timestamp then 80 random bits, as 26
 * Crockford base32 characters, so ids sort by time as plain strings. Monotonic per
 * generator: within one ms (or when the clock steps back) the random part is incremented
 * instead of redrawn, so every id is greater than the one before.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const MAX_TIME = 2 ** 48 - 1;

/** Fills a buffer with random bytes; injectable so tests can make ids deterministic. */
export type RandomFill = (buf: Uint8Array) => void;

const cryptoFill: RandomFill = (buf) => void randomFillSync(buf);

/** Returns a new id for the time `now` (epoch ms), greater than every id it returned before. */
export type UlidGenerator = (now: number) => string;

export function ulidGenerator(fill: RandomFill = cryptoFill): UlidGenerator {
  let lastTime = -1;
  let timePart = '';
  // The id but its last character, rebuilt only when more than the last digit changes: an
  // id is then one concatenation, not 16 (each a string of its own: an append's garbage).
  let head = '';
  const digits = new Uint8Array(RANDOM_CHARS);
  // One 5-bit digit per byte; refilled in bulk because randomness per id is the slow part.
  const pool = new Uint8Array(RANDOM_CHARS * 64);
  let poolAt = pool.length;

  const draw = (): void => {
    if (poolAt + RANDOM_CHARS > pool.length) {
      fill(pool);
      poolAt = 0;
    }
    for (let i = 0; i < RANDOM_CHARS; i++) digits[i] = pool[poolAt++]! & 31;
  };
  const newHead = (): void => {
    head = timePart;
    for (let i = 0; i < RANDOM_CHARS - 1; i++) head += ALPHABET[digits[i]!];
  };

  return (now) => {
    const t = Math.floor(now);
    if (!Number.isSafeInteger(t) || t < 0 || t > MAX_TIME) {
      throw new RangeError(`ulid: time ${t} is outside 0…2^48-1 ms`);
    }
    if (t > lastTime) {
      lastTime = t;
      timePart = encodeTime(t);
      draw();
      newHead();
    } else if (digits[RANDOM_CHARS - 1]! < 31) {
      digits[RANDOM_CHARS - 1]! += 1;
    } else if (increment(digits)) {
      newHead();
    } else {
      // 2^80 ids in one ms cannot happen; moving to the next ms keeps ids increasing anyway.
      lastTime += 1;
      timePart = encodeTime(lastTime);
      draw();
      newHead();
    }
    return head + ALPHABET[digits[RANDOM_CHARS - 1]!]!;
  };
}

/** Adds one to a big-endian base32 number; false when it wrapped around. */
function increment(digits: Uint8Array): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

function encodeTime(t: number): string {
  let out = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** The ms timestamp inside a ULID; throws on something that is not one. */
export function ulidTime(id: string): number {
  if (!/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(id)) throw new TypeError(`not a ULID: ${id}`);
  let t = 0;
  for (let i = 0; i < TIME_CHARS; i++) t = t * 32 + ALPHABET.indexOf(id[i]!);
  return t;
}
