import { describe, expect, it } from 'vitest';
import type { BurstReport, CommandSender } from '../../../src/commands/rate-limit/burst.js';
import { KeyedBuckets } from '../../../src/commands/rate-limit/keyed-buckets.js';
import {
  CommandRateLimiter,
  REPORT_EVERY_MS,
  type RateVerdict,
} from '../../../src/commands/rate-limit/limiter.js';
import type { RateLimitSettings } from '../../../src/commands/rate-limit/settings.js';
import { ManualClock } from '../../../src/core/clock.js';

const anon = (clientId: string): CommandSender => ({ user: 'anonymous', clientId });

function limiter(settings: Partial<RateLimitSettings> = {}) {
  const clock = new ManualClock(1_000_000);
  const reports: BurstReport[] = [];
  const l = new CommandRateLimiter({
    settings: {
      client: { rate: 1, burst: 5 },
      user: { rate: 4, burst: 20 },
      quietMs: 10_000,
      maxClients: 1024,
      ...settings,
    },
    clock,
    report: (r) => reports.push(r),
  });
  const send = (sender: CommandSender, n: number): RateVerdict[] =>
    Array.from({ length: n }, () => l.check(sender, 'ack'));
  const allowed = (vs: RateVerdict[]) => vs.filter((v) => v.ok).length;
  return { clock, reports, l, send, allowed };
}

describe('CommandRateLimiter', () => {
  it("lets a client's burst through, then its rate; a refusal says when to retry", () => {
    const { clock, send, allowed } = limiter();
    const first = send(anon('a'), 8);
    expect(first.map((v) => v.ok)).toEqual([true, true, true, true, true, false, false, false]);
    expect(first[5]).toEqual({ ok: false, level: 'client', retryAfterMs: 1000 });
    clock.advance(500);
    expect(send(anon('a'), 1)[0]).toEqual({ ok: false, level: 'client', retryAfterMs: 500 });
    clock.advance(500);
    expect(allowed(send(anon('a'), 3))).toBe(1);
    clock.advance(60_000);
    expect(allowed(send(anon('a'), 10))).toBe(5); // refilled up to the burst, not beyond
  });

  it('keeps one client within its bucket while another is untouched', () => {
    const { send, allowed } = limiter();
    expect(allowed(send(anon('flood'), 2_000))).toBe(5);
    expect(allowed(send({ user: 'ops', clientId: 'flood' }, 5))).toBe(5); // same id, other login
    expect(allowed(send(anon('ha'), 5))).toBe(5);
  });

  it("bounds a client that reconnects under new client ids by its login's bucket", () => {
    const { reports, send, allowed } = limiter();
    let through = 0;
    for (let i = 0; i < 100; i++) through += allowed(send(anon(`cycle-${i}`), 3));
    expect(through).toBe(20);
    expect(reports).toMatchObject([
      { phase: 'start', level: 'user', user: 'anonymous', clientId: 'cycle-6', count: 1 },
    ]);
    // Another login is not held back by anonymous' flood.
    expect(allowed(send({ user: 'ops', clientId: 'x' }, 5))).toBe(5);
  });

  it('over an external broker (no client id) every command shares the bucket of its login', () => {
    const { send, allowed } = limiter();
    expect(allowed(send({ user: 'unverified' }, 50))).toBe(20);
    const { send: send2, allowed: allowed2 } = limiter({ user: undefined });
    expect(allowed2(send2({ user: 'unverified' }, 500))).toBe(500); // user level lifted
  });

  it('reports a burst once when it starts and once with the total when it is quiet', () => {
    const { clock, reports, send } = limiter();
    send(anon('a'), 5);
    clock.advance(100);
    send(anon('a'), 1_995);
    expect(reports).toEqual([
      {
        phase: 'start',
        level: 'client',
        user: 'anonymous',
        clientId: 'a',
        action: 'ack',
        count: 1,
        total: 1,
        firstAt: 1_000_100,
        lastAt: 1_000_100,
      },
    ]);
    clock.advance(9_999);
    expect(reports).toHaveLength(1);
    clock.advance(1);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ phase: 'end', count: 1_994, total: 1_995 });
    expect(reports[1]!.firstAt).toBe(1_000_100);
    expect(reports[1]!.lastAt).toBe(1_000_100);
    expect(clock.pendingTimers).toBe(0);
    // Quiet again: the next refusal opens a new burst.
    send(anon('a'), 20);
    expect(reports.map((r) => r.phase)).toEqual(['start', 'end', 'start']);
  });

  it('while a flood goes on, a count once a minute; the counts add up to the total', () => {
    const { clock, reports, send } = limiter();
    for (let s = 0; s < 150; s++) {
      send(anon('a'), 100);
      clock.advance(1_000);
    }
    clock.advance(10_000);
    expect(reports.map((r) => r.phase)).toEqual(['start', 'continuing', 'continuing', 'end']);
    const total = reports.at(-1)!.total;
    expect(reports.reduce((n, r) => n + r.count, 0)).toBe(total);
    // 150 s at 100 a second: 5 let through first, then one a second.
    expect(total).toBe(15_000 - 5 - 149);
    expect(reports[1]!.lastAt - reports[0]!.firstAt).toBeLessThan(REPORT_EVERY_MS + 1_000);
  });

  it('ends every open burst with its count when stopped', () => {
    const { reports, send, l, clock } = limiter();
    send(anon('a'), 10);
    send(anon('b'), 7);
    l.stop();
    expect(reports.filter((r) => r.phase === 'end').map((r) => [r.clientId, r.total])).toEqual([
      ['a', 5],
      ['b', 2],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps no more than maxClients buckets, and forgets idle ones as traffic passes', () => {
    const { clock, reports, send, allowed } = limiter({ maxClients: 50, user: undefined });
    // A client cycling 10,000 client ids, each drained and over its limit.
    for (let i = 0; i < 10_000; i++) send(anon(`c${i}`), 6);
    // The evicted ones had open bursts: each got its end line, nothing uncounted.
    const ends = reports.filter((r) => r.phase === 'end');
    const starts = reports.filter((r) => r.phase === 'start');
    expect(starts).toHaveLength(10_000);
    expect(ends).toHaveLength(10_000 - 50);
    expect(ends.every((r) => r.total === 1)).toBe(true);
    expect(clock.pendingTimers).toBe(50);
    // Quiet and refilled: each new client takes the place of an idle one.
    clock.advance(60_000);
    for (let i = 0; i < 200; i++) expect(allowed(send(anon(`later${i}`), 1))).toBe(1);
  });
});

describe('KeyedBuckets', () => {
  it('never grows past its maximum, and shrinks back as buckets fill up again', () => {
    const clock = new ManualClock(0);
    const evicted: unknown[] = [];
    const buckets = new KeyedBuckets({ rate: 1, burst: 2 }, clock, 100, (e) => evicted.push(e));
    for (let i = 0; i < 5_000; i++) buckets.get(`k${i}`).bucket.take();
    expect(buckets.size).toBe(100);
    expect(evicted).toHaveLength(4_900); // none was idle: each had spent a token
    clock.advance(2_000); // every bucket is full again: idle, worth no more than a new one
    buckets.get('busy').bucket.take(); // room made from an idle one, two more forgotten
    expect(buckets.size).toBe(98);
    buckets.get('busy').bucket.take();
    expect(buckets.size).toBe(96);
    for (let i = 0; i < 100; i++) buckets.get('busy');
    expect(buckets.size).toBe(1); // the busy one is never forgotten while it is in use
    expect(evicted).toHaveLength(4_900);
  });
});
