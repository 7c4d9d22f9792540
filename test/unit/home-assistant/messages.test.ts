import { describe, expect, it } from 'vitest';
import type { NotifyRoute } from '../../../bridges/home-assistant/config.js';
import { mobilePress, telegramPress } from '../../../bridges/home-assistant/notify/buttons.js';
import { compose } from '../../../bridges/home-assistant/notify/messages.js';
import type { StoredEvent } from '../../../src/core/events.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
let seq = 0;

function ev(
  type: string,
  subject: string,
  over: Partial<StoredEvent> & { data?: Record<string, unknown> } = {},
  ageMs = 1000,
): StoredEvent {
  seq++;
  return {
    seq,
    id: `01M97000000000000000000${String(seq).padStart(3, '0')}`,
    ts: new Date(NOW - ageMs).toISOString(),
    node: 'edge',
    type,
    severity: 'error',
    subject,
    ...over,
    data: { title: `${subject} ${type}`, message: `${subject}: ${type} message`, ...over.data },
  };
}

const route = (over: Partial<NotifyRoute> = {}): NotifyRoute => ({
  service: 'notify.telegram_ops',
  severity: 'warning',
  subjects: ['*'],
  ...over,
});
const opts = (routes: NotifyRoute[]) => ({ routes, now: NOW, staleAfterMs: 15 * 60_000 });

describe('notify messages (issue 18, point 3)', () => {
  it('groups a burst of one type on one host into one message in plain words', () => {
    const events = ['radarr', 'sonarr', 'lidarr'].map((n) =>
      ev('container_down', `nas/${n}`, { data: { host: 'nas', name: n } }),
    );
    const [m, ...rest] = compose(events, opts([route()]));
    expect(rest).toEqual([]);
    expect(m!.title).toBe('3 containers down on nas');
    expect(m!.message.split('\n')[0]).toBe('3 containers down on nas: radarr, sonarr, lidarr');
    expect(m!.message).toContain('nas/sonarr: container_down message');
  });

  it('routes by severity and subject glob; a closing event reaches the route whatever its severity', () => {
    const warn = ev('container_down', 'nas/a', { severity: 'warning' });
    const info = ev('container_recovered', 'nas/a', {
      severity: 'info',
      data: { incident: { id: 'i1', status: 'closed', alerts: 1 } },
    });
    const other = ev('container_down', 'pi/b', { severity: 'critical' });
    const errorsOnNas = route({ severity: 'error', subjects: ['nas/*'] });
    expect(compose([warn, info, other], opts([errorsOnNas])).map((m) => m.title)).toEqual([
      'nas/a container_recovered',
    ]);
  });

  it('sends one message per step of an incident', () => {
    const inc = { id: 'i2', status: 'open', alerts: 1 };
    const a = ev('container_down', 'nas/a', { data: { incident: inc } });
    const b = ev('container_unhealthy', 'nas/a', { data: { incident: inc } });
    const c = ev('container_down', 'nas/a', { data: { incident: { ...inc, alerts: 2 } } });
    expect(compose([a, b, c], opts([route()])).map((m) => m.title)).toEqual([
      '2 containers down on nas',
    ]);
  });

  it('summarises stale alerts in one message, newest lines kept', () => {
    const old = Array.from({ length: 20 }, (_, i) =>
      ev('container_down', `nas/c${i}`, {}, 60 * 60_000 - i * 1000),
    );
    const [m, ...rest] = compose(old, opts([route()]));
    expect(rest).toEqual([]);
    expect(m!.title).toBe('20 alerts while Home Assistant was unreachable');
    expect(m!.message).toContain('… 5 earlier');
    expect(m!.message).toContain('nas/c19 container_down');
    expect(m!.message).not.toContain('nas/c4 container_down');
  });

  it('puts approve / reject buttons on a pending action, by the service kind', () => {
    const pending = ev('remediation_pending', 'local/db', {
      severity: 'warning',
      data: { action_id: '01M9700000000000000000ABCD' },
    });
    const [tg] = compose([pending], opts([route()]));
    expect(tg!.data).toEqual({
      inline_keyboard: [
        [
          ['Approve', '/outpost_approve 01M9700000000000000000ABCD'],
          ['Reject', '/outpost_reject 01M9700000000000000000ABCD'],
        ],
      ],
    });
    const [app] = compose([pending], opts([route({ service: 'notify.mobile_app_pixel' })]));
    expect(app!.data).toEqual({
      actions: [
        { action: 'OUTPOST_APPROVE_01M9700000000000000000ABCD', title: 'Approve' },
        { action: 'OUTPOST_REJECT_01M9700000000000000000ABCD', title: 'Reject' },
      ],
    });
    // Telegram carries 64 bytes of callback data: a longer id gets none, and says where to go.
    const long = ev('remediation_pending', 'local/db', {
      severity: 'warning',
      data: { action_id: 'x'.repeat(60) },
    });
    const [none] = compose([long], opts([route()]));
    expect(none!.data).toBeUndefined();
    expect(none!.message).toMatch(/approve it in Home Assistant\)$/);
  });

  it('leaves out what is not for people', () => {
    const quiet = ev('remediation_completed', 'local/db', { data: { notify: false } });
    const wordless: StoredEvent = { ...ev('events_dropped', 'store'), data: { dropped: 3 } };
    expect(compose([quiet, wordless], opts([route({ severity: 'debug' })]))).toEqual([]);
  });
});

describe('button presses', () => {
  it('reads our own callback data and app actions', () => {
    expect(telegramPress('/outpost_approve abc-1')).toEqual({
      verdict: 'approve',
      actionId: 'abc-1',
    });
    expect(telegramPress('/outpost_reject abc-1')).toEqual({
      verdict: 'reject',
      actionId: 'abc-1',
    });
    expect(mobilePress('OUTPOST_REJECT_abc-1')).toEqual({ verdict: 'reject', actionId: 'abc-1' });
  });

  it('ignores foreign or malformed data', () => {
    for (const d of [
      '/lights_on kitchen',
      '/outpost_approve',
      '/outpost_approve a b',
      '/outpost_approve ../../etc',
      '/outpost_delete abc',
      42,
      null,
    ]) {
      expect(telegramPress(d)).toBeUndefined();
    }
    expect(mobilePress('OUTPOST_APPROVE_')).toBeUndefined();
    expect(mobilePress('SOMEONE_ELSE_1')).toBeUndefined();
  });
});
