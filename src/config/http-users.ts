import { z } from 'zod';

/**
 * The status page's keys of the `http` section (issue #20, point 2): off by default; its
 * users, each with a token read from the environment (`${OUTPOST_WEB_TOKEN_ALICE}`), are who
 * may open it and, as `web:<name>` in `remediation.approvers`, approve from it.
 */

/** 127.0.0.0/8, ::1 and localhost: a listener only this machine reaches. */
export const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

const user = z.strictObject({
  name: z.string({ error: 'expected a user name' }).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$/, {
    error: 'expected a user name of letters, digits, "_", "." or "-" (at most 32)',
  }),
  // Its length is checked by hand: a zod `min` would print the (short) token in the error.
  token: z
    .string({ error: 'expected a token (use ${VAR} to read it from the environment)' })
    .superRefine((t, ctx) => {
      if (t.length >= 16 && t.length <= 256) return;
      const message = 'expected a token of 16 to 256 characters (use ${VAR} to read it)';
      ctx.addIssue({ code: 'custom', message, input: `(hidden, ${t.length} characters)` });
    }),
});

export const statusPageFields = {
  status_page: z.boolean({ error: 'expected true or false' }).default(false),
  users: z.array(user, { error: 'expected a list of users with a name and a token' }).default([]),
};

interface HttpSection {
  readonly enabled: boolean;
  readonly listen: { readonly host: string };
  readonly status_page: boolean;
  readonly users: readonly { readonly name: string; readonly token: string }[];
}

/**
 * The page needs the listener; on a listener others can reach it needs a user (a token),
 * or anyone on the LAN could read the site's state. Names and tokens are unique, so a
 * token names exactly one person. Issues never carry a token as their input.
 */
export function checkStatusPage(h: HttpSection, ctx: z.RefinementCtx): void {
  if (h.status_page && !h.enabled) {
    ctx.addIssue({
      code: 'custom',
      path: ['enabled'],
      message: 'expected true: http.status_page is served on the http listener',
      input: h.enabled,
    });
  }
  if (h.status_page && h.users.length === 0 && !LOOPBACK_HOST.test(h.listen.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['users'],
      message: `expected at least one user with a token: http.listen (${h.listen.host}) is not loopback, and the status page would be open to the network`,
      input: [],
    });
  }
  const names = new Set<string>();
  const tokens = new Set<string>();
  h.users.forEach((u, i) => {
    if (names.has(u.name)) {
      const message = `expected a unique user name: ${u.name} is listed twice`;
      ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message, input: u.name });
    }
    if (tokens.has(u.token)) {
      const message = `expected a token of its own: user ${u.name} has the token of a user listed before`;
      ctx.addIssue({ code: 'custom', path: ['users', i, 'token'], message, input: '(hidden)' });
    }
    names.add(u.name);
    tokens.add(u.token);
  });
}

/**
 * A `web:<name>` approver is a user of the status page: one no `http.users` entry defines,
 * or one on an agent without the page, could never approve, and a typo there would only
 * show when an approval is refused. Refused at load, naming the approver. Telegram and
 * Home Assistant users are not listed in the config, so only their form is checked.
 */
export function checkWebApprovers(
  c: {
    readonly http: HttpSection;
    readonly remediation: { readonly approvers: readonly string[] };
  },
  ctx: z.RefinementCtx,
): void {
  const names = new Set(c.http.users.map((u) => u.name));
  c.remediation.approvers.forEach((who, i) => {
    if (!who.startsWith('web:')) return;
    const name = who.slice('web:'.length);
    const message = !names.has(name)
      ? `expected web:<name> of a user in http.users (${[...names].join(', ') || 'none'}): no user ${name} could approve from the status page`
      : !c.http.status_page || !c.http.enabled
        ? `expected http.enabled and http.status_page true: ${who} approves from the status page, which is off`
        : undefined;
    if (message)
      ctx.addIssue({ code: 'custom', path: ['remediation', 'approvers', i], message, input: who });
  });
}
