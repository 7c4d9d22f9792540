/**
 * The last `max` bytes of a stream: a backup tool can print gigabytes (rsync -v lists every
 * file), and what explains a failure is at the end. Chunks are kept until they exceed the
 * bound, then the oldest are dropped, so memory stays about `max` whatever the output.
 */
export class Tail {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #dropped = false;

  constructor(max: number) {
    this.#max = max;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes - this.#chunks[0]!.length >= this.#max) {
      this.#bytes -= this.#chunks.shift()!.length;
      this.#dropped = true;
    }
  }

  /** The tail as text; a cut at the front is marked, and a split character replaced. */
  text(): string {
    const all = Buffer.concat(this.#chunks);
    const cut = all.length > this.#max;
    const kept = cut ? all.subarray(all.length - this.#max) : all;
    const s = kept.toString('utf8');
    return cut || this.#dropped ? `…${s.replace(/^\uFFFD+/, '')}` : s;
  }
}
