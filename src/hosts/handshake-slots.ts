import { Slots } from '../core/slots.js';

/**
 * How many SSH handshakes may be under way at once, across every host of the agent.
 *
 * An agent that starts (or whose network comes back) opens every host's connection at the
 * same moment. Each handshake costs a key exchange on both ends, and sshd refuses
 * unauthenticated connections past its `MaxStartups` (10 by default, then at random):
 * 200 hosts dialled at once meant refused handshakes, each retried after a backoff, and
 * all of that work on the loop the embedded broker shares. With the slots, hosts wait their
 * turn; the wait does not count against a handshake's `readyTimeout`, which starts when
 * the host is dialled.
 */
export class HandshakeSlots extends Slots {
  constructor(size: number) {
    super(size, 'ssh handshake slots');
  }
}
