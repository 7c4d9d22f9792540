import { isIP } from 'node:net';
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** "90s", "5m", "1h30m", "500ms", "30d" → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  }
  return Math.round(total);
}

/** "512MiB", "1GB", "2048" → bytes; undefined when malformed. */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text >= 0 ? text : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

/**
 * The longest any duration may be, 100 years: far past anything the agent waits for, and
 * `now + duration` stays a safe integer and a valid date (an action's `expires_at`).
 */
export const DURATION_CEILING = '36500d';

/** Every field built by duration(), with its maximum: a unit test walks them all. */
export const durationFields = z.registry<{ max: string; maxMs: number }>();

/**
 * A duration field: a string with units, parsed to milliseconds. The agent honours any
 * length up to `max` (its timers chain past Node's 24.8 days, see core/clock.ts); a key
 * whose consumer cannot take more names its own, and check-config refuses past it.
 */
export const duration = (example = '30s', max = DURATION_CEILING) => {
  const maxMs = parseDuration(max);
  if (maxMs === undefined) throw new RangeError(`duration maximum ${max} is not a duration`);
  const malformed = `expected a duration such as "${example}" (units ms, s, m, h, d)`;
  const field = z.string({ error: malformed }).transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined || ms > maxMs) {
      const message = ms === undefined ? malformed : `expected at most ${max}`;
      ctx.addIssue({ code: 'custom', message, input: s });
      return z.NEVER;
    }
    return ms;
  });
  durationFields.add(field, { max, maxMs });
  return field;
};

/** A size field: bytes, or a string such as "512MiB". */
export const size = (example = '512MiB') =>
  z
    .union([z.string(), z.number()], {
      error: `expected a size such as "${example}" or a number of bytes`,
    })
    .transform((v, ctx) => {
      const n = parseSize(v);
      if (n === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a size such as "${example}" or a number of bytes`,
          input: v,
        });
        return z.NEVER;
      }
      return n;
    });

export const port = () =>
  z
    .int({ error: 'expected an integer 1-65535' })
    .min(1, { error: 'expected an integer 1-65535' })
    .max(65535, {
      error: 'expected an integer 1-65535',
    });

export interface ListenAddress {
  host: string;
  port: number;
}

/** "0.0.0.0:1883", "[::1]:1883", ":1883" → { host, port }. */
export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const p = Number(m[3]);
  if (p > 65535) return undefined; // 0: any free port (tests, ephemeral setups)
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  return { host, port: p };
}

export const listen = (example = '0.0.0.0:1883') =>
  address(parseListen, example, `expected host:port such as "${example}" with a port 0-65535`);

/** A host:port string field read by `parse`; `message` says what it expected. */
function address(
  parse: (text: string) => ListenAddress | undefined,
  example: string,
  message: string,
) {
  return z.string({ error: `expected host:port such as "${example}"` }).transform((s, ctx) => {
    const a = parse(s);
    if (!a) {
      ctx.addIssue({ code: 'custom', message, input: s });
      return z.NEVER;
    }
    return a;
  });
}

/**
 * "127.0.0.1:22", "nas.lan:443", "[::1]:1883" → { host, port }: an address to connect to,
 * so the host is required and the port is 1-65535.
 */
export function parseHostPort(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const p = Number(m[3]);
  if (p < 1 || p > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port: p };
}

export const hostPort = (example = '127.0.0.1:22') =>
  address(
    parseHostPort,
    example,
    `expected host:port such as "${example}" or "[::1]:1883" with a port 1-65535`,
  );

/**
 * Flags every entry of `items` whose `field` repeats an earlier entry's, at
 * `<path>.<index>.<field>`, as `expected a unique <what>`.
 */
export function requireUnique<T>(
  ctx: z.core.$RefinementCtx<unknown>,
  items: readonly T[],
  where: { path: readonly (string | number)[]; field: keyof T & string; what: string },
): void {
  const seen = new Set<unknown>();
  items.forEach((item, i) => {
    const value = item[where.field];
    if (seen.has(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [...where.path, i, where.field],
        message: `expected a unique ${where.what}`,
        input: value,
      });
    }
    seen.add(value);
  });
}

/**
 * A command as a list of words (`[systemctl, is-active, sshd]`), never one string: each
 * word reaches the program (or the remote shell, quoted one by one) as it is, so nothing
 * in it can be split or reinterpreted.
 */
export const argv = (what: string, example: string) => {
  const error = `expected ${what} as a list of words such as ${example}`;
  const word = z.string({ error }).min(1, { error: `expected a non-empty word in ${what}` });
  return z.array(word, { error }).min(1, { error });
};

/** A whole number of `what`, at least `min`; one message for both checks. */
export const wholeNumber = (what: string, min: number) => {
  const error = `expected a whole number of ${what}, ${min} or more`;
  return z.int({ error }).min(min, { error });
};

const ID = /^[a-zA-Z0-9_-]+$/;
/** An id field (host, check, job …): letters, digits, `_` or `-`. */
export const id = (what: string) =>
  z
    .string({ error: `expected a ${what} id of letters, digits, _ or -` })
    .regex(ID, { error: `expected a ${what} id of letters, digits, _ or -` });

/** A literal IPv4 or IPv6 address (no brackets, no port). */
export function isIPAddress(text: string): boolean {
  return isIP(text) !== 0;
}

const HOST_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/**
 * An IP address or a host name of RFC 1123 labels (a trailing dot allowed). A name never
 * starts with `-`, so it can be handed to a program (ping) without being read as an option.
 */
export function isHost(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => HOST_LABEL.test(l));
}

/** A host field: an IP address or a host name (see isHost). */
export const host = (example = '192.168.1.1') => {
  const error = `expected an IP address or a host name such as "${example}"`;
  return z.string({ error }).refine(isHost, { error });
};

/**
 * A network interface name as Linux allows it (at most 15 characters, IFNAMSIZ) and
 * narrower: letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, so it can
 * only ever name one entry under /sys/class/net.
 */
export const INTERFACE_NAME = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,14}$/;

export const interfaceName = (example = 'eth0') => {
  const error = `expected a network interface name such as "${example}" (letters, digits, _ . -, at most 15)`;
  return z.string({ error }).regex(INTERFACE_NAME, { error });
};
