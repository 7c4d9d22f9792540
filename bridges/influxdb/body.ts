/**
 * One write request's body (issue 19 point 4): its lines written one after another into a
 * grow-only scratch buffer, a newline between them, then copied out once at its exact
 * size. No joined string of the whole request is built, and the request pool sends bytes
 * it has not to encode again (a string body it encodes twice: once for its length, once
 * for the socket). The copy is the request's own: the scratch is written again for the
 * next request while the socket may still hold this one.
 */
export class BodyWriter {
  #scratch: Buffer;

  constructor(initialBytes = 64 * 1024) {
    this.#scratch = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** The lines as UTF-8, separated by newlines (as `lines.join('\n')` encoded). */
  body(lines: readonly string[]): Buffer {
    let buf = this.#scratch;
    let pos = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      // A UTF-16 unit is at most 3 bytes of UTF-8 (a pair of them, 4), and one newline.
      const need = pos + l.length * 3 + 1;
      if (need > buf.length) buf = this.#grow(buf, pos, need);
      if (i > 0) buf[pos++] = 0x0a;
      pos += buf.write(l, pos);
    }
    const out = Buffer.allocUnsafeSlow(pos);
    buf.copy(out, 0, 0, pos);
    return out;
  }

  #grow(buf: Buffer, used: number, need: number): Buffer {
    const next = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2));
    buf.copy(next, 0, 0, used);
    this.#scratch = next;
    return next;
  }
}
