import { StringDecoder } from 'node:string_decoder';

/**
 * Splits engine output that is JSON objects one after another (what
 * `inspect --format '{…}' ID…` prints, one per line) into the text of each object while
 * the output arrives, so the answer of a host with a hundred containers (about 400 KB)
 * is never held as one buffer, one string and one parsed tree at the same time: each
 * object is parsed and dropped on its own, small enough to die young.
 *
 * It finds object boundaries only (brackets and braces outside strings); whether an
 * object is valid JSON is JSON.parse's call. It never throws: the first problem is
 * kept, everything after it is ignored but still counted.
 */
export class JsonSequenceSplitter {
  readonly #onElement: (text: string, index: number) => void;
  readonly #decoder = new StringDecoder('utf8');
  /** Between objects (only whitespace may come before the next `{`), or inside one. */
  #inElement = false;
  /** Nesting depth inside the current element. */
  #depth = 0;
  #inString = false;
  #escape = false;
  /** The current element's text so far (pieces of chunks). */
  #parts: string[] = [];
  #index = 0;
  #chars = 0;
  #head = '';
  #problem: string | undefined;

  /** `onElement` gets the text of each object and its index in the output. */
  constructor(onElement: (text: string, index: number) => void) {
    this.#onElement = onElement;
  }

  /** Characters seen so far. */
  get chars(): number {
    return this.#chars;
  }

  /** The first characters after leading whitespace, for messages. */
  get head(): string {
    return this.#head;
  }

  /** Why the output is not JSON objects one after another, once that is known. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Elements handed over so far. */
  get count(): number {
    return this.#index;
  }

  pushBytes(chunk: Buffer): void {
    this.push(this.#decoder.write(chunk));
  }

  push(text: string): void {
    this.#chars += text.length;
    if (this.#head.length < HEAD) {
      const trimmed = this.#head.length === 0 ? text.trimStart() : text;
      this.#head += trimmed.slice(0, HEAD - this.#head.length);
    }
    if (this.#problem !== undefined) return;
    this.#scan(text);
  }

  /** The output has ended: an unfinished object is a problem. */
  end(): void {
    const rest = this.#decoder.end();
    if (rest.length > 0) this.push(rest);
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

  #scan(text: string): void {
    const n = text.length;
    let i = 0;
    let from = 0; // where the current element's piece in this chunk starts
    while (i < n) {
      if (this.#inElement) {
        i = this.#element(text, i, from);
        if (i < 0 || this.#problem !== undefined) return;
        continue;
      }
      const c = text.charCodeAt(i);
      if (isSpace(c)) {
        i++;
      } else if (c === OPEN_BRACE) {
        this.#inElement = true;
        this.#depth = 0;
        from = i;
      } else {
        const at = this.#chars - text.length + i;
        return this.#fail(
          `Unexpected token ${JSON.stringify(text[i])} at position ${at}, expected '{'`,
        );
      }
    }
  }

  /**
   * Scans an element from `i` (its start is at `from`, or before this chunk). Returns
   * where scanning goes on after the element, or -1 when the chunk ended inside it.
   */
  #element(text: string, i: number, from: number): number {
    const n = text.length;
    let depth = this.#depth;
    let inString = this.#inString;
    let escape = this.#escape;
    for (; i < n; i++) {
      const ch = text.charCodeAt(i);
      if (inString) {
        if (escape) escape = false;
        else if (ch === BACKSLASH) escape = true;
        else if (ch === QUOTE) inString = false;
      } else if (ch === QUOTE) inString = true;
      else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) depth++;
      else if ((ch === CLOSE_BRACE || ch === CLOSE_BRACKET) && --depth === 0) break;
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escape = escape;
    if (i === n) {
      this.#parts.push(from === 0 ? text : text.slice(from));
      return -1;
    }
    this.#parts.push(text.slice(from, i + 1));
    const element = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
    this.#parts = [];
    this.#inElement = false;
    this.#onElement(element, this.#index++);
    return i + 1;
  }
}

const HEAD = 60;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
