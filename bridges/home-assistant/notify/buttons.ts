/**
 * Approve / reject buttons on a pending action's message (issue 18, point 4), and how a
 * press is read back. Telegram: an inline keyboard through `telegram_bot`, each button's
 * callback data `/outpost_approve <action id>` (HA fires `telegram_callback` with it).
 * The companion app: actionable notifications, each action `OUTPOST_APPROVE_<action id>`
 * (HA fires `mobile_app_notification_action`). Anything else is someone else's button.
 */

export type ButtonStyle = 'telegram' | 'mobile_app' | 'none';
export type Verdict = 'approve' | 'reject';

/** Telegram's limit on a button's callback data, in bytes (Bot API, InlineKeyboardButton). */
const TELEGRAM_DATA_MAX = 64;
/** An action id as remediation makes them (a ULID) or a client gives them (payloads.ts). */
const ACTION_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The notify service's `data` carrying the buttons, or undefined when they cannot be sent. */
export function approvalButtons(
  style: ButtonStyle,
  actionId: string,
): Record<string, unknown> | undefined {
  if (!ACTION_ID.test(actionId)) return undefined;
  if (style === 'telegram') {
    const approve = telegramData('approve', actionId);
    const reject = telegramData('reject', actionId);
    if (Buffer.byteLength(approve) > TELEGRAM_DATA_MAX) return undefined;
    if (Buffer.byteLength(reject) > TELEGRAM_DATA_MAX) return undefined;
    return {
      inline_keyboard: [
        [
          ['Approve', approve],
          ['Reject', reject],
        ],
      ],
    };
  }
  if (style === 'mobile_app') {
    return {
      actions: [
        { action: mobileAction('approve', actionId), title: 'Approve' },
        { action: mobileAction('reject', actionId), title: 'Reject' },
      ],
    };
  }
  return undefined;
}

function telegramData(v: Verdict, actionId: string): string {
  return `/outpost_${v} ${actionId}`;
}

function mobileAction(v: Verdict, actionId: string): string {
  return `OUTPOST_${v.toUpperCase()}_${actionId}`;
}

export interface Press {
  readonly verdict: Verdict;
  readonly actionId: string;
}

/** A Telegram button's callback data, when it is one of ours. */
export function telegramPress(data: unknown): Press | undefined {
  if (typeof data !== 'string') return undefined;
  const m = /^\/outpost_(approve|reject) (\S+)$/.exec(data);
  if (!m || !ACTION_ID.test(m[2]!)) return undefined;
  return { verdict: m[1] as Verdict, actionId: m[2]! };
}

/** A companion app action, when it is one of ours. */
export function mobilePress(action: unknown): Press | undefined {
  if (typeof action !== 'string') return undefined;
  const m = /^OUTPOST_(APPROVE|REJECT)_(.+)$/.exec(action);
  if (!m || !ACTION_ID.test(m[2]!)) return undefined;
  return { verdict: m[1]!.toLowerCase() as Verdict, actionId: m[2]! };
}
