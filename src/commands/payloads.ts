import { z } from 'zod';
import { parseDuration } from '../config/units.js';
import { COMMAND_ACTIONS, type CommandAction } from '../core/topics.js';
import { commandError, type Command, type CommandError } from './command.js';

/**
 * Command payloads (issue 6): one zod schema per action, every object strict, every
 * failure turned into one `{ code, field, message }` that names the field and never
 * echoes more than a short excerpt of what was sent.
 */

/** A command is a few hundred bytes; anything far beyond is refused before parsing. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
/** Nesting allowed inside `args` (executors take flat options). */
const MAX_ARGS_DEPTH = 8;
/** Longest silence or timed maintenance. */
const MAX_SUPPRESS_MS = 30 * 24 * 3600_000;

const HOST = '[a-zA-Z0-9_-]{1,64}';
// Docker's own rule for container names ([a-zA-Z0-9][a-zA-Z0-9_.-]*): nothing a shell,
// a glob or a topic would read specially can pass.
const NAME = '[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}';

const token = (re: string, error: string) =>
  z.string({ error }).regex(new RegExp(`^${re}$`), { error });

const CONTAINER_TARGET = token(
  `${HOST}/${NAME}`,
  'expected "<host>/<container>": a host id, a slash and a container name (letters, digits, _ . -)',
);
const HOST_TARGET = token(HOST, 'expected a host id (letters, digits, _ or -)');
const HOST_OR_CONTAINER_TARGET = token(
  `${HOST}(/${NAME})?`,
  'expected "<host>" or "<host>/<container>" (letters, digits, _ . -)',
);
const ACTION_ID_TARGET = token(
  '[A-Za-z0-9_-]{1,64}',
  'expected an action id (as answered in action_id)',
);
const JOB_TARGET = token('[a-zA-Z0-9_-]{1,64}', 'expected a backup job id');

/** The id a client chooses; the same id twice runs once. Topic-safe as it is. */
export const COMMAND_ID = /^[A-Za-z0-9_-]{1,64}$/;

const durationArg = z
  .union([z.string(), z.number()], {
    error: 'expected a duration such as "30m", "2h" or a number of seconds',
  })
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === undefined || !Number.isFinite(ms) || ms < 1000 || ms > MAX_SUPPRESS_MS) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a duration from 1s to 30d such as "30m", "2h" or a number of seconds',
        input: v,
      });
      return z.NEVER;
    }
    return ms;
  });

const argsObject = z
  .record(z.string(), z.unknown(), { error: 'expected an object of arguments' })
  .refine((a) => depthOf(a) <= MAX_ARGS_DEPTH, {
    error: `expected arguments nested at most ${MAX_ARGS_DEPTH} levels deep`,
  });
const noArgs = z.strictObject({}, { error: 'expected no arguments: {}' });

const common = {
  id: z
    .string({ error: 'expected an id of 1-64 letters, digits, _ or -' })
    .regex(COMMAND_ID, { error: 'expected an id of 1-64 letters, digits, _ or -' })
    .optional(),
  dry_run: z.boolean({ error: 'expected true or false' }).default(false),
  reason: z
    .string({ error: 'expected a reason as text' })
    .max(500, { error: 'expected a reason of at most 500 characters' })
    .optional(),
  requested_by: z
    .string({ error: 'expected who asks, as text' })
    .min(1, { error: 'expected who asks, as text' })
    .max(100, { error: 'expected requested_by of at most 100 characters' })
    .optional(),
};

const envelope = <T extends z.ZodType, A extends z.ZodType>(target: T, args: A) =>
  z.strictObject({ ...common, target, args }, { error: 'expected a JSON object' });

/** The fields of which a payload names exactly one (`keys[0]` is the one reported missing). */
function exactlyOne(keys: readonly string[], expected: string) {
  return (p: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>) => {
    const given = keys.filter((k) => p[k] !== undefined);
    if (given.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      path: [given[1] ?? keys[0]!],
      message:
        given.length === 0
          ? `expected ${expected}`
          : `expected only one of ${keys.join(', ')}, got ${given.join(' and ')}`,
      input: p,
    });
  };
}

/**
 * approve / reject (issue 14): one action by its id, or the oldest pending one, or the one
 * chosen in the select (Home Assistant's fixed `Approve oldest` / `Approve selected`).
 */
const decision = z
  .strictObject(
    {
      ...common,
      target: ACTION_ID_TARGET.optional(),
      oldest: z.literal(true, { error: 'expected oldest: true (or no oldest)' }).optional(),
      selected: z.literal(true, { error: 'expected selected: true (or no selected)' }).optional(),
      args: noArgs.default({}),
    },
    { error: 'expected a JSON object' },
  )
  .superRefine(
    exactlyOne(
      ['target', 'oldest', 'selected'],
      'target (an action id as answered in action_id), oldest: true or selected: true',
    ),
  );

/** select: the pending action `selected: true` means, by its id or as the select lists it. */
const select = z
  .strictObject(
    {
      ...common,
      target: ACTION_ID_TARGET.optional(),
      option: z
        .string({ error: 'expected an option of the pending-actions select, as text' })
        .min(1, { error: 'expected an option of the pending-actions select, as text' })
        .max(300, { error: 'expected an option of at most 300 characters' })
        .optional(),
      args: noArgs.default({}),
    },
    { error: 'expected a JSON object' },
  )
  .superRefine(
    exactlyOne(['target', 'option'], 'target (an action id) or option (as the select lists it)'),
  );

const SCHEMAS = {
  restart_container: envelope(CONTAINER_TARGET, argsObject.default({})),
  start_container: envelope(CONTAINER_TARGET, argsObject.default({})),
  stop_container: envelope(CONTAINER_TARGET, argsObject.default({})),
  run_backup: envelope(JOB_TARGET, argsObject.default({})),
  disk_cleanup: envelope(HOST_TARGET, argsObject.default({})),
  approve: decision,
  reject: decision,
  select,
  // Set and cleared like maintenance (the HA switch sends enabled false to end it early);
  // without `enabled` it is a silence, as it always was.
  silence: z
    .strictObject(
      {
        ...common,
        target: HOST_OR_CONTAINER_TARGET,
        enabled: z.boolean({ error: 'expected enabled: true or false' }).default(true),
        args: z
          .strictObject({ for: durationArg.optional() }, { error: 'expected args { "for": "1h" }' })
          .default({}),
      },
      { error: 'expected a JSON object' },
    )
    .superRefine((p, ctx) => {
      const timed = p.args.for !== undefined;
      if (p.enabled === timed) return;
      ctx.addIssue({
        code: 'custom',
        path: ['args', 'for'],
        input: p.args.for,
        message: p.enabled
          ? 'expected how long to silence, such as "30m", "2h" or a number of seconds'
          : 'expected no duration with enabled false: that ends the silence now',
      });
    }),
  maintenance: z.strictObject(
    {
      ...common,
      target: HOST_TARGET,
      enabled: z.boolean({ error: 'expected enabled: true or false' }),
      args: z
        .strictObject({ for: durationArg.optional() }, { error: 'expected args { "for": "2h" }' })
        .default({}),
    },
    { error: 'expected a JSON object' },
  ),
  ack: envelope(CONTAINER_TARGET, noArgs.default({})),
} satisfies Record<CommandAction, z.ZodType>;

export type ParseResult =
  { ok: true; command: Command } | { ok: false; error: CommandError; id: string | null };

export function isCommandAction(word: string): word is CommandAction {
  return (COMMAND_ACTIONS as readonly string[]).includes(word);
}

/** Parses one command payload for `action` (the last level of its topic). Never throws. */
export function parseCommand(action: string, payload: Buffer | string): ParseResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES) {
    const msg = `expected a payload of at most ${MAX_PAYLOAD_BYTES} bytes, got ${size}`;
    return { ok: false, id: null, error: commandError('too_large', null, msg) };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    const msg = 'expected a JSON object such as {"target": "local/web"}';
    return { ok: false, id: null, error: commandError('bad_json', null, msg) };
  }
  const id = idOf(value);
  if (!isCommandAction(action)) {
    const msg = `expected one of the actions ${COMMAND_ACTIONS.join(', ')}, got ${excerpt(action)}`;
    return { ok: false, id, error: commandError('unknown_action', 'action', msg) };
  }
  const parsed = SCHEMAS[action].safeParse(value);
  if (!parsed.success)
    return { ok: false, id, error: fromIssue(parsed.error.issues[0], knownFields(action)) };
  return { ok: true, command: toCommand(action, parsed.data) };
}

interface ParsedPayload {
  id?: string | undefined;
  /** Absent only where another field names the action (approve / reject / select). */
  target?: string | undefined;
  oldest?: true | undefined;
  selected?: true | undefined;
  option?: string | undefined;
  args: Record<string, unknown>;
  dry_run: boolean;
  reason?: string | undefined;
  requested_by?: string | undefined;
  enabled?: boolean;
}

function toCommand(action: CommandAction, p: ParsedPayload): Command {
  const pick = p.oldest ? 'oldest' : p.selected ? 'selected' : undefined;
  return {
    action,
    // Empty until the service finds the action a pick or an option means.
    target: p.target ?? '',
    args: p.args,
    dryRun: p.dry_run,
    ...(p.id !== undefined ? { id: p.id } : {}),
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
    ...(p.requested_by !== undefined ? { requestedBy: p.requested_by } : {}),
    ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    ...(pick !== undefined ? { pick } : {}),
    ...(p.option !== undefined ? { option: p.option } : {}),
  };
}

/** The client's id when it is a valid one, so even an error answer can be matched to it. */
function idOf(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const id = (value as Record<string, unknown>).id;
  return typeof id === 'string' && COMMAND_ID.test(id) ? id : null;
}

/** The top-level fields an action's payload takes, for "unknown field" errors. */
function knownFields(action: CommandAction): string {
  return Object.keys(SCHEMAS[action].shape).join(', ');
}

function fromIssue(issue: z.core.$ZodIssue | undefined, known: string): CommandError {
  if (!issue) return commandError('invalid', null, 'expected a valid command');
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const field = [...path, excerpt(key, 64, false)].join('.');
    const expected = path.length === 0 ? ` (${known})` : '';
    return commandError('invalid', field, `unknown field${expected}`);
  }
  const field = path.length > 0 ? path.map((p) => excerpt(p, 64, false)).join('.') : null;
  // Every schema above names what it expects; zod's own wording is the fallback.
  return commandError('invalid', field, excerpt(issue.message, 300, false));
}

/** A short, printable excerpt of untrusted text for an error message. */
export function excerpt(text: string, max = 40, quote = true): string {
  // Control characters would make a log line or a terminal misbehave.
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  const cut = clean.length > max ? `${clean.slice(0, max)}…` : clean;
  return quote ? JSON.stringify(cut) : cut;
}

/** Nesting depth of a JSON value, without recursion (a deep value must not blow the stack). */
function depthOf(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    if (max > MAX_ARGS_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
