import fc from 'fast-check';
import { COMMAND_ACTIONS } from '../../../src/core/topics.js';

/**
 * Command messages that must all be refused: random JSON and bytes, wrong types, huge
 * strings, unicode and shell metacharacters in names, unknown fields and actions. Every
 * generator below yields something invalid by construction, so the test can demand an
 * error answer for each and no action at all.
 */

export interface FuzzCommand {
  action: string;
  payload: Buffer;
}

const SHELL = [
  ';',
  '|',
  '&',
  '&&',
  '||',
  '$(',
  '`',
  '>',
  '<',
  '\n',
  '"',
  "'",
  '\\',
  '*',
  '?',
  ' ',
  '$IFS',
  '{',
  '}',
  '!',
  '#',
  '~',
  '%',
  '\0',
];
const KNOWN_KEYS = ['id', 'target', 'args', 'dry_run', 'reason', 'requested_by', 'enabled'];

const shellName = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9]{0,10}$/),
    fc.constantFrom(...SHELL),
    fc.string({ maxLength: 12 }),
  )
  .map(([a, meta, b]) => `${a}${meta}${b}`);
const unicodeName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 24 })
  // eslint-disable-next-line no-control-regex
  .filter((s) => /[^\x00-\x7f]/.test(s));
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
const badTarget = fc.oneof(
  shellName.map((n) => `local/${n}`),
  unicodeName.map((n) => `local/${n}`),
  shellName,
  fc.constant(''),
  fc.string({ maxLength: 4 }).map((s) => `${s}/${s}/${s}`),
  fc.string({ minLength: 200, maxLength: 3000 }).map((s) => `local/${s}x;`),
  wrongType,
);
const badId = fc.oneof(
  fc.integer(),
  fc.constant(''),
  shellName,
  unicodeName,
  fc.stringMatching(/^[a-z]{65,100}$/),
  fc.array(fc.string(), { maxLength: 2 }),
);
const notObject = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const notBoolean = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.array(fc.boolean(), { maxLength: 2 }),
  fc.constant({}),
);

const unknownAction = fc
  .oneof(
    fc.stringMatching(/^[a-z_]{1,24}$/),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  )
  .filter(
    (w) =>
      !(COMMAND_ACTIONS as readonly string[]).includes(w) && !/[+#/\0]/.test(w) && w.trim() !== '',
  );
const action = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...COMMAND_ACTIONS) },
  { weight: 1, arbitrary: unknownAction },
);

/** A valid payload for each action, before one corruption makes it invalid. */
function validBase(a: string): Record<string, unknown> {
  switch (a) {
    case 'run_backup':
      return { target: 'job1' };
    case 'disk_cleanup':
      return { target: 'local' };
    case 'approve':
    case 'reject':
    case 'select':
      return { target: 'act1' };
    case 'silence':
      return { target: 'local', args: { for: '1h' } };
    case 'maintenance':
      return { target: 'local', enabled: true };
    default:
      return { target: 'local/web' };
  }
}

type Corruption = (base: Record<string, unknown>) => fc.Arbitrary<Record<string, unknown>>;
const corruptions: Corruption[] = [
  (b) => badTarget.map((target) => ({ ...b, target })),
  (b) => badId.map((id) => ({ ...b, id })),
  (b) => notBoolean.map((dry_run) => ({ ...b, dry_run })),
  (b) => notObject.map((args) => ({ ...b, args })),
  (b) =>
    fc
      .oneof(wrongType, fc.string({ minLength: 501, maxLength: 2000 }))
      .map((reason) => ({ ...b, reason })),
  (b) =>
    fc
      .oneof(wrongType, fc.constant(''), fc.string({ minLength: 101, maxLength: 300 }))
      .map((requested_by) => ({ ...b, requested_by })),
  (b) =>
    fc
      .tuple(
        fc.oneof(
          fc.string({ minLength: 1 }),
          fc.constantFrom('__proto__', 'constructor', 'toString', 'force'),
        ),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .filter(([k]) => !KNOWN_KEYS.includes(k))
      .map(([k, v]) => ({ ...b, [k]: v })),
  (b) => fc.constant(Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'target'))),
  (b) =>
    fc.integer({ min: 9, max: 200 }).map((n) => ({
      ...b,
      args: { nested: JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown },
    })),
];

/** Payloads that look like commands, with exactly one thing wrong. */
const almostValid = action.chain((a) =>
  fc.constantFrom(...corruptions).chain((corrupt) => {
    const base = validBase(a);
    return corrupt(base).map((p) => ({
      action: a,
      payload: Buffer.from(JSON.stringify(p)),
    }));
  }),
);

const bytes = (arb: fc.Arbitrary<string | Uint8Array>) =>
  fc.tuple(action, arb).map(([a, p]) => ({ action: a, payload: Buffer.from(p) }));

/** Everything together; weights favour the near-misses that reach the deepest code. */
export const fuzzCommand: fc.Arbitrary<FuzzCommand> = fc.oneof(
  { weight: 5, arbitrary: almostValid },
  { weight: 2, arbitrary: bytes(fc.json({ maxDepth: 4 })) },
  { weight: 1, arbitrary: bytes(fc.string({ unit: 'grapheme', maxLength: 200 })) },
  { weight: 1, arbitrary: bytes(fc.uint8Array({ maxLength: 300 })) },
  {
    weight: 1,
    arbitrary: bytes(
      fc
        .integer({ min: 16_500, max: 200_000 })
        .map((n) => JSON.stringify({ target: `local/${'a'.repeat(n)}` })),
    ),
  },
  {
    weight: 1,
    arbitrary: bytes(
      fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    ),
  },
);
