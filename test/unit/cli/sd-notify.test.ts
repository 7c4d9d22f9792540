import { describe, expect, it } from 'vitest';
import { systemdNotifier, watchdogInterval } from '../../../src/cli/sd-notify.js';
import { memoryLogger } from '../../helpers/memory-logger.js';

describe('watchdogInterval', () => {
  const { log } = memoryLogger();
  it('is half of WATCHDOG_USEC, in ms', () => {
    expect(watchdogInterval('30000000', undefined, 42, log)).toBe(15_000);
    expect(watchdogInterval('1000000', '42', 42, log)).toBe(500);
  });
  it('is undefined without a watchdog or when it is set for another process', () => {
    expect(watchdogInterval(undefined, undefined, 42, log)).toBeUndefined();
    expect(watchdogInterval('', undefined, 42, log)).toBeUndefined();
    expect(watchdogInterval('1000000', '7', 42, log)).toBeUndefined();
  });
  it('names a WATCHDOG_USEC it cannot read, and pets nothing', () => {
    const m = memoryLogger();
    expect(watchdogInterval('30s', undefined, 42, m.log)).toBeUndefined();
    expect(JSON.stringify(m.lines)).toMatch(/WATCHDOG_USEC.*30s|30s.*WATCHDOG_USEC/);
  });
});

describe('systemdNotifier', () => {
  it('is off without NOTIFY_SOCKET, and removes the variables so no child inherits them', async () => {
    const env: NodeJS.ProcessEnv = { WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1', KEEP: 'x' };
    expect(await systemdNotifier(env, memoryLogger().log)).toBeUndefined();
    expect(env).toEqual({ KEEP: 'x' });
  });
  it('refuses an abstract or relative NOTIFY_SOCKET, naming it', async () => {
    const m = memoryLogger();
    expect(await systemdNotifier({ NOTIFY_SOCKET: '@sd-notify' }, m.log)).toBeUndefined();
    expect(JSON.stringify(m.lines)).toContain('@sd-notify');
  });
});
