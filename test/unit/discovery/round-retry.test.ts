import { describe, expect, it } from 'vitest';
import { RoundRetry } from '../../../discovery/round-retry.js';
import { ManualClock } from '../../../src/core/clock.js';

/** A link that is up or down, and tells its listeners when it connects. */
function setup(connected: boolean) {
  const clock = new ManualClock(0);
  const listeners = new Set<() => void>();
  const link = {
    connected,
    connect() {
      this.connected = true;
      for (const l of listeners) l();
    },
  };
  let redone = 0;
  const retry = new RoundRetry({
    clock,
    connected: () => link.connected,
    onConnect: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    redo: () => redone++,
    initialMs: 1_000,
    maxMs: 8_000,
  });
  retry.start();
  return { clock, link, retry, redone: () => redone, listeners };
}

describe('RoundRetry', () => {
  it('redoes a round cut off by a dropped link as soon as the link is back', () => {
    const { clock, link, retry, redone } = setup(false);
    retry.done(3);
    clock.advance(600_000);
    expect(redone()).toBe(0);
    link.connect();
    expect(redone()).toBe(1);
    expect(retry.owed).toBe(false);
  });

  it('owes nothing after a round with no failures', () => {
    const { clock, link, retry, redone } = setup(false);
    retry.done(0);
    link.connect();
    clock.advance(600_000);
    expect(redone()).toBe(0);
  });

  it('backs off between redos when sends fail on a link that is up', () => {
    const { clock, retry, redone } = setup(true);
    retry.done(1);
    expect(redone()).toBe(0);
    clock.advance(1_000);
    expect(redone()).toBe(1);
    // Each failing redo waits longer (jittered, capped at 8 s): never a hot loop.
    retry.done(1);
    clock.advance(8_000);
    expect(redone()).toBe(2);
    retry.done(0);
    clock.advance(600_000);
    expect(redone()).toBe(2);
  });

  it('a connect during the wait redoes at once, and only once', () => {
    const { clock, link, retry, redone } = setup(true);
    retry.done(1);
    link.connect();
    expect(redone()).toBe(1);
    clock.advance(600_000);
    expect(redone()).toBe(1);
  });

  it('does nothing once stopped', () => {
    const { clock, link, retry, redone, listeners } = setup(false);
    retry.done(1);
    retry.stop();
    retry.done(1);
    link.connect();
    clock.advance(600_000);
    expect(redone()).toBe(0);
    expect(listeners.size).toBe(0);
  });
});
