/**
 * Splits engine output that is JSON objects one after another (what
 * `inspect --format '{…}' ID…` prints, one per line) into its objects while the output
 * arrives, working on the bytes as they come: an object's text is decoded only when the
 * consumer asks for it (`text()`), and each object comes with a hash of its bytes, so a
 * consumer that has seen the same bytes at the last poll can skip it without any string
 * or parse tree being made (issue #15: ~2.8 MiB of inspect output per round of 50 hosts,
 * most of it unchanged from one poll to the next).
 *
 * It finds object boundaries only (brackets and braces outside strings); whether an
 * object is valid JSON is JSON.parse's call. Scanning bytes is safe for UTF-8: every byte
 * of a multi-byte character is ≥ 0x80, so none is taken for a quote, brace or backslash.
 * It never throws: the first problem is kept, everything after it is ignored but counted.
 */
export class JsonSequenceSplitter {
  readonly #onElement: (hash: number, index: number) => void;
  /** Between objects (only whitespace may come before the next `{`), or inside one. */
  #inElement = false;
  /** Nesting depth inside the current element. */
  #depth = 0;
  #inString = false;
  #escape = false;
  #h1 = H1_SEED;
  #h2 = H2_SEED;
  /** The current element's bytes from earlier chunks. */
  #parts: Buffer[] = [];
  /** While `onElement` runs: the chunk holding the element's end, and its span there. */
  #chunk: Buffer | undefined;
  #from = 0;
  #to = 0;
  #index = 0;
  #bytes = 0;
  #headParts: Buffer[] = [];
  #headBytes = 0;
  #problem: string | undefined;

  /** `onElement` gets a hash of each object's bytes and its index in the output. */
  constructor(onElement: (hash: number, index: number) => void) {
    this.#onElement = onElement;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The first characters after leading whitespace, for messages. */
  get head(): string {
    return Buffer.concat(this.#headParts).toString('utf8').slice(0, HEAD);
  }

  /** Why the output is not JSON objects one after another, once that is known. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Elements handed over so far. */
  get count(): number {
    return this.#index;
  }

  /** The text of the element being handed over; only valid inside `onElement`. */
  text(): string {
    const chunk = this.#chunk;
    if (chunk === undefined) throw new Error('text() outside onElement');
    if (this.#parts.length === 0) return chunk.toString('utf8', this.#from, this.#to);
    return Buffer.concat([...this.#parts, chunk.subarray(this.#from, this.#to)]).toString('utf8');
  }

  pushBytes(chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#keepHead(chunk);
    if (this.#problem !== undefined) return;
    this.#scan(chunk);
  }

  /** The output has ended: an unfinished object is a problem. */
  end(): void {
    if (this.#problem === undefined && this.#inElement) {
      this.#fail('Unexpected end of JSON input');
    }
    this.#parts = [];
  }

  /** Marks the output bad from outside (an element that did not validate). */
  fail(problem: string): void {
    if (this.#problem === undefined) this.#fail(problem);
  }

  #fail(problem: string): void {
    this.#problem = problem;
    this.#parts = [];
  }

  #keepHead(chunk: Buffer): void {
    if (this.#headBytes >= HEAD_BYTES) return;
    let from = 0;
    if (this.#headBytes === 0) while (from < chunk.length && isSpace(chunk[from]!)) from++;
    const piece = chunk.subarray(from, from + HEAD_BYTES - this.#headBytes);
    if (piece.length === 0) return;
    // A copy: the chunk's memory may be reused by the stream that lent it.
    this.#headParts.push(Buffer.from(piece));
    this.#headBytes += piece.length;
  }

  #scan(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let from = 0; // where the current element's piece in this chunk starts
    while (i < n) {
      if (this.#inElement) {
        i = this.#element(chunk, i, from);
        if (i < 0 || this.#problem !== undefined) return;
        continue;
      }
      const c = chunk[i]!;
      if (isSpace(c)) {
        i++;
      } else if (c === OPEN_BRACE) {
        this.#inElement = true;
        this.#depth = 0;
        this.#h1 = H1_SEED;
        this.#h2 = H2_SEED;
        from = i;
      } else {
        const at = this.#bytes - n + i;
        const token = JSON.stringify(chunk.toString('utf8', i, i + 1));
        return this.#fail(`Unexpected token ${token} at position ${at}, expected '{'`);
      }
    }
  }

  /**
   * Scans an element from `i` (its start is at `from`, or before this chunk), hashing its
   * bytes. Returns where scanning goes on after the element, or -1 when the chunk ended
   * inside it.
   */
  #element(chunk: Buffer, i: number, from: number): number {
    const n = chunk.length;
    let depth = this.#depth;
    let inString = this.#inString;
    let escape = this.#escape;
    let h1 = this.#h1;
    let h2 = this.#h2;
    let closed = false;
    for (; i < n; i++) {
      const ch = chunk[i]!;
      h1 = Math.imul(h1 ^ ch, 0x01000193);
      h2 = Math.imul(h2 ^ ch, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      if (inString) {
        if (escape) escape = false;
        else if (ch === BACKSLASH) escape = true;
        else if (ch === QUOTE) inString = false;
      } else if (ch === QUOTE) inString = true;
      else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) depth++;
      else if ((ch === CLOSE_BRACE || ch === CLOSE_BRACKET) && --depth === 0) {
        closed = true;
        break;
      }
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escape = escape;
    this.#h1 = h1;
    this.#h2 = h2;
    if (!closed) {
      // Copied: the stream may reuse the chunk's memory once this call returns.
      this.#parts.push(Buffer.from(chunk.subarray(from)));
      return -1;
    }
    this.#inElement = false;
    this.#chunk = chunk;
    this.#from = from;
    this.#to = i + 1;
    try {
      this.#onElement(digest(h1, h2), this.#index++);
    } finally {
      this.#chunk = undefined;
      if (this.#parts.length > 0) this.#parts = [];
    }
    return i + 1;
  }
}

/**
 * Two 32-bit multiplicative hashes (FNV-1a and a murmur-style mix), finalised and joined
 * into one 53-bit number, exact as a double: two different records of one host agree by
 * chance with a probability near 2⁻⁵³. It guards against change, not against an
 * adversary; whoever can shape inspect output at will already runs the engine.
 */
function digest(h1: number, h2: number): number {
  return (fmix(h1) >>> 0) * 2 ** 21 + (fmix(h2 ^ 0x9e3779b9) >>> 11);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const HEAD = 60;
/** Enough bytes for HEAD characters of up to 4 bytes each. */
const HEAD_BYTES = HEAD * 4;
const H1_SEED = 0x811c9dc5;
const H2_SEED = 0x2545f491;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
