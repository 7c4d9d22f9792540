import { commandError, errorAnswer, type Answer } from '../command.js';
import type { CommandSender } from './burst.js';
import type { RateVerdict } from './limiter.js';
import { clientOf } from './report.js';
import { describeLimit, type RateLimitSettings } from './settings.js';

/**
 * The answer to a command refused for its rate. The payload was not read, so the answer
 * carries no id (`id: null`); a client that must tell its requests apart uses MQTT 5
 * correlation data, which is echoed. `retry_after_s` says when a token is back.
 */
export function rateLimitedAnswer(
  action: string,
  sender: CommandSender,
  verdict: Extract<RateVerdict, { ok: false }>,
  settings: RateLimitSettings,
): Answer {
  const who = clientOf({
    level: verdict.level,
    user: sender.user,
    clientId: sender.clientId ?? null,
  });
  const bucket = settings[verdict.level];
  const limit = bucket ? ` (at most ${describeLimit(bucket)})` : '';
  const retry = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
  const message = `too many commands from ${who}${limit}; refused unread, try again in ${retry} s`;
  return errorAnswer(action, null, commandError('rate_limited', null, message), {
    retry_after_s: retry,
  });
}
