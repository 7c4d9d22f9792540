import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSequenceSplitter } from '../../../src/hosts/inspect-stream.js';

/** Feeds `text` in pieces cut at `cuts` (byte offsets of its UTF-8 encoding). */
function split(text: string, cuts: number[] = []) {
  const elements: unknown[] = [];
  const hashes: number[] = [];
  const splitter = new JsonSequenceSplitter((hash, index) => {
    expect(index).toBe(elements.length);
    hashes.push(hash);
    elements.push(JSON.parse(splitter.text()));
  });
  const bytes = Buffer.from(text, 'utf8');
  let from = 0;
  for (const at of [...cuts].sort((a, b) => a - b)) {
    splitter.pushBytes(bytes.subarray(from, at));
    from = at;
  }
  splitter.pushBytes(bytes.subarray(from));
  splitter.end();
  return { elements, hashes, splitter };
}

/** One object a line, as `inspect --format '{…}' ID…` prints them. */
const lines = (list: readonly object[]) => list.map((o) => `${JSON.stringify(o)}\n`).join('');

describe('JsonSequenceSplitter (inspect --format, one object a line)', () => {
  it('hands over each object, in order', () => {
    const list = [
      { Id: 'a', State: { Status: 'running' } },
      { Id: 'b', Labels: {} },
    ];
    const { elements, splitter } = split(lines(list));
    expect(elements).toEqual(list);
    expect(splitter.problem).toBeUndefined();
    expect(splitter.count).toBe(2);
  });

  it('is not confused by brackets, braces, quotes and escapes inside strings', () => {
    const list = [
      { a: '}]{[', b: 'say "hi" \\', c: ['x', { d: '\\"}' }] },
      { e: 'ünïcödé ✓ 😀', f: null, g: [1, [2, [3]]] },
    ];
    const { elements, splitter } = split(lines(list));
    expect(elements).toEqual(list);
    expect(splitter.problem).toBeUndefined();
  });

  it('takes the output in chunks cut anywhere, even inside a multi-byte character', () => {
    const list = [{ name: 'ünïcödé ✓ 😀', s: 'a\\"b' }, { n: 1 }];
    const text = lines(list);
    const length = Buffer.byteLength(text);
    for (let at = 1; at < length; at++) {
      expect(split(text, [at]).elements).toEqual(list);
    }
    expect(
      split(
        text,
        Array.from({ length }, (_, i) => i),
      ).elements,
    ).toEqual(list);
  });

  it('agrees with JSON.parse line by line, however it is chunked', () => {
    const object = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 });
    fc.assert(
      fc.property(
        fc.array(object, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (list, rawCuts) => {
          const text = lines(list);
          const length = Buffer.byteLength(text);
          const cuts = rawCuts.map((c) => c % (length + 1));
          const { elements, splitter } = split(text, cuts);
          expect(splitter.problem).toBeUndefined();
          // Compared with the parsed lines, not the generated objects: JSON has no -0.
          const parsed = text
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as unknown);
          expect(elements).toEqual(parsed);
        },
      ),
    );
  });

  it('accepts no output at all (no containers)', () => {
    for (const text of ['', '\n', ' \n\n']) {
      const { elements, splitter } = split(text);
      expect([text, elements, splitter.problem]).toEqual([text, [], undefined]);
    }
  });

  it('reports output that is not objects one after another, and where', () => {
    const cases: [string, RegExp][] = [
      [
        'Error response from daemon: this is not JSON\n',
        /^Unexpected token "E" at position 0, expected '\{'$/,
      ],
      ['{"a": 1}\n{"b": ', /^Unexpected end of JSON input$/],
      ['{"a": 1}\n[{"b": 2}]', /^Unexpected token "\[" at position 9/],
      ['{"a": 1}, {"b": 2}', /^Unexpected token ","/],
    ];
    for (const [text, reason] of cases) {
      const { splitter } = split(text);
      expect([text, splitter.problem]).toEqual([text, expect.stringMatching(reason)]);
    }
  });

  it('stops handing over objects after a problem, but keeps counting the output', () => {
    const seen: string[] = [];
    const splitter = new JsonSequenceSplitter(() => {
      seen.push(splitter.text());
      splitter.fail('rejected');
    });
    splitter.pushBytes(Buffer.from('  {"a": 1}\n{"b": 2}\n'));
    splitter.pushBytes(Buffer.from('{"c": 3}\n'));
    splitter.end();
    expect(seen).toEqual(['{"a": 1}']);
    expect(splitter.problem).toBe('rejected');
    expect(splitter.bytes).toBe(29);
    expect(splitter.head).toBe('{"a": 1}\n{"b": 2}\n{"c": 3}\n');
  });

  it('hashes each object by its bytes: equal objects agree, however chunked; others differ', () => {
    const list = [
      { Id: 'a', State: { Status: 'running', StartedAt: '2026-11-21T00:00:00.1Z' } },
      { Id: 'a', State: { Status: 'running', StartedAt: '2026-11-21T00:00:00.2Z' } },
      { Id: 'a', State: { Status: 'running', StartedAt: '2026-11-21T00:00:00.1Z' } },
      { name: 'ünïcödé ✓ 😀' },
    ];
    const text = lines(list);
    const whole = split(text).hashes;
    expect(whole[0]).toBe(whole[2]);
    expect(new Set(whole).size).toBe(3);
    const length = Buffer.byteLength(text);
    for (let at = 1; at < length; at += 7) expect(split(text, [at, at + 3]).hashes).toEqual(whole);
    for (const h of whole) expect(Number.isSafeInteger(h)).toBe(true);
  });

  it('gives distinct hashes to many records that differ in one character', () => {
    const list = Array.from({ length: 20_000 }, (_, i) => ({ Id: 'x', RestartCount: i }));
    const { hashes } = split(lines(list));
    expect(new Set(hashes).size).toBe(list.length);
  });
});
