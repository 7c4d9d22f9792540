import { Slots } from '../../core/slots.js';

/**
 * The remote polls' slots: the SSH hosts' collectors share one, so that however many hosts
 * poll at the same moment (all of them, right after the agent starts or a network comes
 * back), only a few engine answers are read and parsed at a time. Waiting for a slot does
 * not count against the command's timeout, which starts when the command is sent.
 */
export class PollSlots extends Slots {
  constructor(size: number) {
    super(size, 'poll slots');
  }
}
