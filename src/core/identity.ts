/**
 * Who asked. An identity is taken from the channel a request came through (the embedded
 * broker's login, the Home Assistant user behind a websocket event, a Telegram user id),
 * never from what the request says about itself.
 */

/** A connection to the embedded broker without a user name. It can never approve. */
export const ANONYMOUS = 'anonymous';

/** Whoever published over an external broker: the agent cannot see who that is. */
export const UNVERIFIED = 'unverified';
