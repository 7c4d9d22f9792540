import { once } from 'node:events';
import { Writable } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../../src/mqtt/coalesced-writes.js';

/** A real node Writable that keeps every chunk it is given (the chunk itself, not a copy). */
function recorder(highWaterMark = 16 * 1024) {
  const chunks: Buffer[] = [];
  let hold: (() => void) | undefined;
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (holding) hold = () => cb();
      else cb();
    },
  });
  let holding = false;
  return {
    stream,
    chunks,
    bytes: () => Buffer.concat(chunks),
    /** The next chunk is not acknowledged until release(). */
    holdNext: () => (holding = true),
    release: () => {
      holding = false;
      hold?.();
      hold = undefined;
    },
  };
}

describe('coalesceWrites', () => {
  it('hands one turn of small writes to the stream as one chunk, the same bytes in order', async () => {
    const r = recorder();
    const s = coalesceWrites(r.stream);
    const expected: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const head = Buffer.from([0x32, i]);
      const text = `topic/${i}/héllo ✓`;
      const raw = new Uint8Array([1, 2, 3, i]);
      expect(s.write(head)).toBe(true);
      expect(s.write(text)).toBe(true);
      expect(s.write(raw)).toBe(true);
      expected.push(head, Buffer.from(text), Buffer.from(raw));
    }
    expect(r.chunks).toHaveLength(0); // nothing before the turn ends
    await turn();
    expect(r.chunks).toHaveLength(1);
    expect(r.bytes().equals(Buffer.concat(expected))).toBe(true);
  });

  it('never writes over bytes already handed to the stream, across turns and full slabs', async () => {
    const r = recorder();
    const s = coalesceWrites(r.stream, 64);
    const expected: Buffer[] = [];
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < 7; i++) {
        const b = Buffer.alloc(9, t * 7 + i);
        s.write(b);
        expected.push(b);
      }
      await turn();
    }
    // The chunks are the stream's references, read only now: any reuse would show.
    expect(r.bytes().equals(Buffer.concat(expected))).toBe(true);
    expect(r.chunks.length).toBeGreaterThanOrEqual(20);
  });

  it('sends what is pending before a write with a callback, a large chunk or another encoding', async () => {
    const r = recorder();
    const s = coalesceWrites(r.stream);
    const big = Buffer.alloc(10_000, 7);
    s.write('a');
    let called = false;
    s.write(Buffer.from('b'), () => (called = true));
    s.write('c');
    s.write(big);
    s.write('d');
    s.write('6566', 'hex');
    s.write('g');
    const long = 'x'.repeat(5000);
    s.write(long);
    await turn();
    expect(called).toBe(true);
    expect(
      r.bytes().equals(Buffer.concat([Buffer.from('abc'), big, Buffer.from('defg' + long)])),
    ).toBe(true);
    // The large chunk and the long string were not copied.
    expect(r.chunks).toContain(big);
  });

  it('sends what is pending before end(), and a write after it fails as on the stream itself', async () => {
    const r = recorder();
    const s = coalesceWrites(r.stream);
    s.write('last ');
    s.end('words');
    await once(s, 'finish');
    expect(r.bytes().toString()).toBe('last words');
    const plain = recorder().stream;
    plain.end();
    await once(plain, 'finish');
    const failure = (w: Writable) =>
      new Promise<string | undefined>((resolve) =>
        w.write('more', (err) => resolve((err as NodeJS.ErrnoException | null)?.code)),
      );
    expect(await failure(s)).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(await failure(plain)).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(s.write('more')).toBe(plain.write('more'));
    await turn();
    expect(r.bytes().toString()).toBe('last words');
  });

  it('drops what is pending when the stream is destroyed, with no error of its own', async () => {
    const r = recorder();
    const s = coalesceWrites(r.stream);
    const errors: Error[] = [];
    s.on('error', (e) => errors.push(e));
    s.write('never sent');
    s.destroy();
    await turn();
    await turn();
    expect(r.chunks).toHaveLength(0);
    expect(errors).toEqual([]);
  });

  it('says to wait once the stream is past its high-water mark, and the stream drains', async () => {
    const r = recorder(8);
    const s = coalesceWrites(r.stream);
    r.holdNext();
    expect(s.write('0123456789')).toBe(true); // pending here, not yet in the stream
    await turn();
    expect(s.write('x')).toBe(false); // the stream holds 10 unacknowledged bytes
    const drained = once(s, 'drain');
    r.release();
    await drained;
    expect(s.write('y')).toBe(true);
    await turn();
    expect(r.bytes().toString()).toBe('0123456789xy');
  });
});
