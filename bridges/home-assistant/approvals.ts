import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { AgentBus, DecisionAnswer } from '../../src/state/bus-events.js';
import type { HaEvent, HaLink } from './link.js';
import { mobilePress, telegramPress, type Press } from './notify/buttons.js';

export interface ApprovalsOptions {
  readonly link: HaLink;
  readonly bus: AgentBus;
  readonly log: Logger;
}

/**
 * Presses of the approve / reject buttons (issue 18, point 4). The approver is who the
 * channel says pressed: Telegram's user id (`telegram:<id>`, from the callback query HA
 * relays) or the Home Assistant user behind the event (`ha:<context.user_id>`) — never
 * anything in the button's data. Remediation decides through its policy (the approver must
 * be in `remediation.approvers`; a refusal is audited there). Telegram gets an answer to
 * its callback query either way; buttons that are not ours are left to whoever owns them.
 */
export class Approvals {
  readonly #o: ApprovalsOptions;

  constructor(o: ApprovalsOptions) {
    this.#o = o;
    o.link.subscribe('telegram_callback', (e) => this.#telegram(e));
    o.link.subscribe('mobile_app_notification_action', (e) => this.#mobile(e));
  }

  #telegram(e: HaEvent): void {
    const press = telegramPress(e.data.data);
    if (!press) return; // another automation's button
    const callbackId = e.data.id;
    const userId = e.data.user_id;
    if (typeof callbackId !== 'string' && typeof callbackId !== 'number') {
      this.#o.log.warn({ data: e.data.data }, 'telegram_callback without a callback id: ignored');
      return;
    }
    const reply = (message: string) => this.#answerTelegram(String(callbackId), message);
    if (typeof userId !== 'number' || !Number.isSafeInteger(userId)) {
      this.#o.log.warn(
        { action_id: press.actionId },
        'telegram_callback without a user id: refused',
      );
      reply('Refused: Home Assistant did not say who pressed');
      return;
    }
    this.#decide(press, `telegram:${userId}`, (a) => reply(answerText(press, a)));
  }

  #mobile(e: HaEvent): void {
    const press = mobilePress(e.data.action);
    if (!press) return;
    const user = e.context?.user_id;
    if (typeof user !== 'string' || !/^[0-9a-zA-Z]+$/.test(user)) {
      this.#o.log.warn(
        { action_id: press.actionId },
        'mobile_app_notification_action without a Home Assistant user: refused',
      );
      return;
    }
    this.#decide(press, `ha:${user}`, (a) =>
      this.#o.log.info({ action_id: press.actionId, by: `ha:${user}`, ...a }, 'app press answered'),
    );
  }

  #decide(press: Press, by: string, answer: (a: DecisionAnswer) => void): void {
    this.#o.bus.emit('decision', { actionId: press.actionId, verdict: press.verdict, by, answer });
  }

  /** `telegram_bot.answer_callback_query`: stops the spinner on the button and says why. */
  #answerTelegram(callbackId: string, message: string): void {
    this.#o.link
      .call({
        type: 'call_service',
        domain: 'telegram_bot',
        service: 'answer_callback_query',
        service_data: { callback_query_id: callbackId, message, show_alert: false },
      })
      .catch((err: unknown) => {
        this.#o.log.warn({ err: errorMessage(err) }, 'telegram callback not answered');
      });
  }
}

/** The few words shown on the phone after a press. */
export function answerText(press: Press, a: DecisionAnswer): string {
  if (a.ok) return press.verdict === 'approve' ? 'Approved' : 'Rejected';
  if (a.code === 'not_pending') {
    const s = a.status ?? 'ended';
    return `Already ${s === 'approved' || s === 'completed' || s === 'running' ? 'approved' : s === 'expired' ? 'expired' : s}`;
  }
  if (a.code === 'not_found') return 'Expired: no such action any more';
  if (a.code === 'not_allowed') return `Not allowed: ${a.message}`;
  return `Failed: ${a.message}`;
}
