import type { z } from 'zod';

/** Approvers from Home Assistant (`telegram:`, `ha:`) and the status page (`web:`). */
export const CHANNEL_APPROVER = /^(telegram|ha|web):/;

/**
 * A plain approver name is a login of the embedded broker: the user a command's
 * connection logged in as (`src/mqtt/embedded-broker.ts`, never a payload). One that no
 * `broker.users` entry defines could never log in to approve, and on an external broker
 * the agent cannot see who published, so approvals over MQTT are refused there
 * (docs/commands.md): either way a typo or a stale name would only show when an approval
 * is refused. Refused at load, naming the approver. `telegram:`, `ha:` and `web:`
 * approvers come through other channels (checked by their own rules).
 */
export function checkLoginApprovers(
  c: {
    readonly broker: {
      readonly mode: 'embedded' | 'external';
      readonly users: ReadonlyArray<{ readonly username: string }>;
    };
    readonly remediation: { readonly approvers: readonly string[] };
  },
  ctx: z.RefinementCtx,
): void {
  const names = new Set(c.broker.users.map((u) => u.username));
  c.remediation.approvers.forEach((who, i) => {
    if (CHANNEL_APPROVER.test(who) || who === 'anonymous') return;
    const message =
      c.broker.mode === 'external'
        ? `expected "ha:<user id>", "telegram:<user id>" or "web:<name>" on an external broker (broker.mode external): the agent cannot see who published there, so ${who} could never approve over MQTT`
        : !names.has(who)
          ? `expected a user name in broker.users (${[...names].join(', ') || 'none'}): ${who} could never log in to approve`
          : undefined;
    if (message)
      ctx.addIssue({ code: 'custom', path: ['remediation', 'approvers', i], message, input: who });
  });
}
