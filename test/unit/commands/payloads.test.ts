import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, parseCommand } from '../../../src/commands/payloads.js';

const ok = (action: string, payload: unknown) => {
  const r = parseCommand(action, JSON.stringify(payload));
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.command;
};
const err = (action: string, payload: unknown) => {
  const r = parseCommand(action, typeof payload === 'string' ? payload : JSON.stringify(payload));
  if (r.ok) throw new Error('expected an error');
  return r;
};

describe('command payloads', () => {
  it('parses the HA restart button payload with defaults', () => {
    expect(ok('restart_container', { target: 'local/mosquitto' })).toEqual({
      action: 'restart_container',
      target: 'local/mosquitto',
      args: {},
      dryRun: false,
    });
  });

  it('keeps id, dry_run, reason, requested_by and args', () => {
    const c = ok('stop_container', {
      id: 'req-1',
      target: 'nas/radarr.1',
      args: { stop_timeout: 5 },
      dry_run: true,
      reason: 'disk swap',
      requested_by: 'ops',
    });
    expect(c).toEqual({
      action: 'stop_container',
      id: 'req-1',
      target: 'nas/radarr.1',
      args: { stop_timeout: 5 },
      dryRun: true,
      reason: 'disk swap',
      requestedBy: 'ops',
    });
  });

  it('parses the HA maintenance switch payload and timed silences', () => {
    expect(ok('maintenance', { target: 'nas', enabled: true })).toMatchObject({
      target: 'nas',
      enabled: true,
      args: {},
    });
    expect(ok('silence', { target: 'nas/radarr', args: { for: '2h' } }).args).toEqual({
      for: 7_200_000,
    });
    expect(ok('silence', { target: 'nas', args: { for: 90 } }).args).toEqual({ for: 90_000 });
  });

  it('parses the HA silence switch payloads: on for a time, off at once', () => {
    expect(ok('silence', { target: 'nas', enabled: true, args: { for: 3600 } })).toMatchObject({
      target: 'nas',
      enabled: true,
      args: { for: 3_600_000 },
    });
    expect(ok('silence', { target: 'nas', enabled: false })).toMatchObject({
      target: 'nas',
      enabled: false,
      args: {},
    });
    // Without `enabled`, a silence is on, as before.
    expect(ok('silence', { target: 'nas', args: { for: '1h' } }).enabled).toBe(true);
  });

  it.each([
    ['restart_container', '{not json', 'bad_json', null],
    ['restart_container', '[]', 'invalid', null],
    ['restart_container', 'null', 'invalid', null],
    ['restart_container', {}, 'invalid', 'target'],
    ['restart_container', { target: 'mosquitto' }, 'invalid', 'target'],
    ['restart_container', { target: 'local/$(reboot)' }, 'invalid', 'target'],
    ['restart_container', { target: 'local/a;rm -rf /' }, 'invalid', 'target'],
    ['restart_container', { target: 'local/../etc' }, 'invalid', 'target'],
    ['restart_container', { target: 42 }, 'invalid', 'target'],
    ['restart_container', { target: 'local/a', dry_run: 'yes' }, 'invalid', 'dry_run'],
    ['restart_container', { target: 'local/a', id: 'a b' }, 'invalid', 'id'],
    ['restart_container', { target: 'local/a', args: [] }, 'invalid', 'args'],
    ['restart_container', { target: 'local/a', force: true }, 'invalid', 'force'],
    ['maintenance', { target: 'nas' }, 'invalid', 'enabled'],
    ['silence', { target: 'nas', args: { for: '100d' } }, 'invalid', 'args.for'],
    ['silence', { target: 'nas', args: {} }, 'invalid', 'args.for'],
    ['silence', { target: 'nas' }, 'invalid', 'args.for'],
    ['silence', { target: 'nas', enabled: false, args: { for: '1h' } }, 'invalid', 'args.for'],
    ['silence', { target: 'nas', enabled: 'off', args: { for: '1h' } }, 'invalid', 'enabled'],
    ['approve', { target: 'x', args: { now: true } }, 'invalid', 'args.now'],
    ['approve', {}, 'invalid', 'target'],
    ['approve', { oldest: false }, 'invalid', 'oldest'],
    ['reject', { selected: 'yes' }, 'invalid', 'selected'],
    ['select', {}, 'invalid', 'target'],
    ['select', { option: '' }, 'invalid', 'option'],
    ['select', { target: 'a/b' }, 'invalid', 'target'],
    ['reboot', { target: 'local' }, 'unknown_action', 'action'],
  ])('%s %j → %s at %s', (action, payload, code, field) => {
    const r = err(action, payload);
    expect(r.error.code).toBe(code);
    expect(r.error.field).toBe(field);
    expect(r.error.message.length).toBeGreaterThan(5);
  });

  it('approve / reject name one action: by id, the oldest, or the selected one', () => {
    expect(ok('approve', { target: 'a1' })).toEqual({
      action: 'approve',
      target: 'a1',
      args: {},
      dryRun: false,
    });
    expect(ok('approve', { oldest: true, requested_by: 'home-assistant' })).toMatchObject({
      target: '',
      pick: 'oldest',
      requestedBy: 'home-assistant',
    });
    expect(ok('reject', { selected: true })).toMatchObject({ target: '', pick: 'selected' });
    expect(err('approve', { target: 'a1', oldest: true }).error).toEqual({
      code: 'invalid',
      field: 'oldest',
      message: 'expected only one of target, oldest, selected, got target and oldest',
    });
    expect(err('approve', { dry_run: true }).error).toEqual({
      code: 'invalid',
      field: 'target',
      message:
        'expected target (an action id as answered in action_id), oldest: true or selected: true',
    });
    expect(err('approve', { oldest: true, newest: true }).error).toEqual({
      code: 'invalid',
      field: 'newest',
      message: 'unknown field (id, dry_run, reason, requested_by, target, oldest, selected, args)',
    });
  });

  it('select names an action by id or by its option, never both', () => {
    expect(ok('select', { target: 'a1' })).toMatchObject({ action: 'select', target: 'a1' });
    expect(ok('select', { option: 'restart container local/db (a1)' })).toMatchObject({
      target: '',
      option: 'restart container local/db (a1)',
    });
    expect(err('select', { target: 'a1', option: 'x' }).error).toEqual({
      code: 'invalid',
      field: 'option',
      message: 'expected only one of target, option, got target and option',
    });
  });

  it('refuses an oversized payload before parsing it', () => {
    const r = err(
      'restart_container',
      JSON.stringify({ target: 'local/a', reason: 'x'.repeat(MAX_PAYLOAD_BYTES) }),
    );
    expect(r.error.code).toBe('too_large');
  });

  it('refuses deeply nested args without overflowing the stack', () => {
    const deep = `{"target":"local/a","args":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`;
    expect(err('restart_container', deep).error).toMatchObject({ code: 'invalid', field: 'args' });
  });

  it('echoes a valid id in the error, and never a huge or control-character field name', () => {
    const r = err('restart_container', {
      id: 'ok-1',
      target: 'local/a',
      ['\u0007'.repeat(500)]: 1,
    });
    expect(r.id).toBe('ok-1');
    expect(r.error.field!.length).toBeLessThan(70);
    expect(r.error.field!.includes('\u0007')).toBe(false);
  });
});
