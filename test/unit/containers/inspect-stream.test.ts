import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter } from '../../../src/hosts/inspect-stream.js';

/** Feeds `text` in pieces cut at `cuts` (byte offsets of its UTF-8 encoding). */
function split(text: string, cuts: number[] = [], sequence = false) {
  const elements: unknown[] = [];
  const splitter = new JsonArraySplitter(
    (element, index) => {
      expect(index).toBe(elements.length);
      elements.push(JSON.parse(element));
    },
    { sequence },
  );
  const bytes = Buffer.from(text, 'utf8');
  let from = 0;
  for (const at of [...cuts].sort((a, b) => a - b)) {
    splitter.pushBytes(bytes.subarray(from, at));
    from = at;
  }
  splitter.pushBytes(bytes.subarray(from));
  splitter.end();
  return { elements, splitter };
}

/** Each text ends with no elements and no problem. */
function expectEmpty(texts: string[], sequence = false) {
  for (const text of texts) {
    const { elements, splitter } = split(text, [], sequence);
    expect([text, elements, splitter.problem]).toEqual([text, [], undefined]);
  }
}

/** Each text ends with a problem matching its pattern. */
function expectProblems(cases: [string, RegExp][], sequence = false) {
  for (const [text, reason] of cases) {
    const { splitter } = split(text, [], sequence);
    expect([text, splitter.problem]).toEqual([text, expect.stringMatching(reason)]);
  }
}

/**
 * Property: any list of objects, written by `write` and fed in pieces cut anywhere, comes
 * out element by element as `expected` parses the whole text, with no problem.
 */
function agreesWithJsonParse(
  write: (list: Record<string, unknown>[], pretty: boolean) => string,
  expected: (text: string) => unknown[],
  sequence = false,
) {
  const object = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 });
  fc.assert(
    fc.property(
      fc.array(object, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.boolean(),
      (list, rawCuts, pretty) => {
        const text = write(list, pretty);
        const length = Buffer.byteLength(text);
        const cuts = rawCuts.map((c) => c % (length + 1));
        const { elements, splitter } = split(text, cuts, sequence);
        expect(splitter.problem).toBeUndefined();
        expect(elements).toEqual(expected(text));
      },
    ),
  );
}

describe('JsonArraySplitter', () => {
  it('hands over each element of a pretty-printed array, in order', () => {
    const list = [
      { Id: 'a', State: { Status: 'running' } },
      { Id: 'b', Labels: {} },
    ];
    const { elements, splitter } = split(`${JSON.stringify(list, null, 4)}\n`);
    expect(elements).toEqual(list);
    expect(splitter.problem).toBeUndefined();
    expect(splitter.count).toBe(2);
    expect(splitter.startedArray).toBe(true);
  });

  it('is not confused by brackets, braces, quotes and escapes inside strings', () => {
    const list = [
      { a: '}]{[', b: 'say "hi" \\', c: ['x', { d: '\\"}' }] },
      { e: 'ünïcödé ✓ 😀', f: null, g: [1, [2, [3]]] },
    ];
    const text = JSON.stringify(list);
    const { elements, splitter } = split(text);
    expect(elements).toEqual(list);
    expect(splitter.problem).toBeUndefined();
  });

  it('takes the output in chunks cut anywhere, even inside a multi-byte character', () => {
    const list = [{ name: 'ünïcödé ✓ 😀', s: 'a\\"b' }, { n: 1 }];
    const text = JSON.stringify(list, null, 2);
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

  it('agrees with JSON.parse on any array of objects, however it is chunked', () => {
    agreesWithJsonParse(
      (list, pretty) => (pretty ? JSON.stringify(list, null, 2) : JSON.stringify(list)),
      (text) => JSON.parse(text) as unknown[],
    );
  });

  it('accepts an empty array and surrounding whitespace', () => {
    expectEmpty(['[]', ' \n[ \n ]\n\n', '[\n]']);
  });

  it('reports output that is not an array of objects, and where', () => {
    const cases: [string, RegExp][] = [
      [
        'Error response from daemon: this is not JSON\n',
        /^Unexpected token "E" at position 0, expected '\['$/,
      ],
      ['', /^Unexpected end of JSON input$/],
      ['[{"a": 1}', /^Unexpected end of JSON input$/],
      ['[{"a": 1}, {"b": ', /^Unexpected end of JSON input$/],
      ['[{"a": 1}] trailing', /^Unexpected token/],
      ['[{"a": 1} {"b": 2}]', /^Unexpected token/],
      ['[{"a": 1},]', /^Unexpected token/],
      ['[1, 2]', /^Unexpected token/],
      ['{"a": 1}', /^Unexpected token/],
    ];
    expectProblems(cases);
  });

  it('stops handing over elements after a problem, but keeps counting the output', () => {
    const seen: string[] = [];
    const splitter = new JsonArraySplitter((text) => {
      seen.push(text);
      splitter.fail('rejected');
    });
    splitter.push('  [{"a": 1}, {"b": 2}, ');
    splitter.push('{"c": 3}]');
    splitter.end();
    expect(seen).toEqual(['{"a": 1}']);
    expect(splitter.problem).toBe('rejected');
    expect(splitter.chars).toBe(32);
    expect(splitter.head).toBe('[{"a": 1}, {"b": 2}, {"c": 3}]');
  });

  describe('a sequence of objects (inspect --format, one per line)', () => {
    it('agrees with JSON.parse line by line, however it is chunked', () => {
      agreesWithJsonParse(
        (list) => list.map((o) => `${JSON.stringify(o)}\n`).join(''),
        // Compared with the parsed lines, not the generated objects: JSON has no -0.
        (text) =>
          text
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as unknown),
        true,
      );
    });

    it('accepts no output at all (no containers)', () => {
      expectEmpty(['', '\n', ' \n\n'], true);
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
      expectProblems(cases, true);
    });
  });
});
