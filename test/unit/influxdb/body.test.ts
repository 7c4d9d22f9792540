import { describe, expect, it } from 'vitest';
import { BodyWriter } from '../../../bridges/influxdb/body.js';

describe('BodyWriter', () => {
  it('writes the bytes of the lines joined by newlines, growing past its first size', () => {
    const w = new BodyWriter(8);
    const lines = ['events,node=a count=1 1', 'm f="ünï 😀 \\"q\\"" 2', '', 'x y=3 3'];
    expect(w.body(lines).equals(Buffer.from(lines.join('\n')))).toBe(true);
    const many = Array.from({ length: 500 }, (_, i) => `m,t=${i} f="é${'x'.repeat(i)}" ${i}`);
    expect(w.body(many).toString('utf8')).toBe(many.join('\n'));
  });

  it('gives each request bytes of its own: the next body does not write over them', () => {
    const w = new BodyWriter();
    const first = w.body(['a b=1 1', 'c d=2 2']);
    w.body(['zzzzzzzzzzzzzzzzzzzz']);
    expect(first.toString('utf8')).toBe('a b=1 1\nc d=2 2');
  });

  it('writes an empty body for no line', () => {
    expect(new BodyWriter().body([]).length).toBe(0);
  });
});
