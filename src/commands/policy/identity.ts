import { ANONYMOUS } from '../../core/identity.js';
import { pass, type PolicyHook } from './types.js';

/**
 * Who may command at all (issue 13, point 8). On the embedded broker every command
 * carries the connection's login; an anonymous connection may read states (a first run
 * with Home Assistant works without set-up) but not command, unless
 * `remediation.anonymous_commands` says so. On an external broker the agent cannot see
 * the publisher (sender undefined): the broker's own ACL decides who reaches `cmd/#`.
 */
export const identity: PolicyHook = {
  name: 'identity',
  check(req, ctx) {
    if (req.origin !== 'mqtt' || req.sender !== ANONYMOUS || ctx.anonymousCommands) return pass;
    return {
      kind: 'deny',
      code: 'not_allowed',
      message:
        'anonymous clients may not command this agent: log in with a user from broker.users (or set remediation.anonymous_commands: true)',
    };
  },
};
