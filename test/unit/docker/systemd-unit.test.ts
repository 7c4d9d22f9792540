import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { help as runHelp } from '../../../src/cli/run.js';
import { readLauncher } from '../../helpers/launcher.js';

/**
 * docker/outpost.service runs the agent as every other entry does, through bin/outpost
 * (never `node` with flags of its own), as a dedicated user whose only writable place is
 * its data dir, and gives SIGTERM the time the agent promises to need.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const UNIT = join(ROOT, 'docker', 'outpost.service');

/** A unit file as section → key → every value given (Environment= may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      return;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq <= 0) throw new Error(`line ${i + 1}: cannot read "${line}"`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  });
  return sections;
}

const unit = parseUnit(readFileSync(UNIT, 'utf8'));
const service = unit.get('Service') ?? new Map<string, string[]>();
/** The one value of a key (the last one wins in systemd, but a unit should say it once). */
const one = (key: string): string | undefined => {
  const values = service.get(key);
  expect(values?.length ?? 0, `${key}= given once`).toBeLessThanOrEqual(1);
  return values?.[0];
};
const env = new Map(
  (service.get('Environment') ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    return [kv.slice(0, eq), kv.slice(eq + 1)] as const;
  }),
);

describe('parseUnit', () => {
  it('reads sections, repeated keys, and refuses a line it cannot read', () => {
    const u = parseUnit('# c\n[Service]\nEnvironment=A=1\nEnvironment=B=2\nUser=x\n');
    expect(u.get('Service')?.get('Environment')).toEqual(['A=1', 'B=2']);
    expect(u.get('Service')?.get('User')).toEqual(['x']);
    expect(() => parseUnit('User=x\n')).toThrow(/line 1/);
  });
});

describe('docker/outpost.service', () => {
  it('starts the agent through the launcher, with no node flags or launcher settings of its own', () => {
    const words = (one('ExecStart') ?? '').split(/\s+/);
    // The installed command (npm install -g) or a checkout's bin/outpost: both are the launcher.
    expect(basename(words[0]!)).toBe('outpost');
    expect(words[0]).toMatch(/^\/(usr\/local\/bin\/outpost|.+\/bin\/outpost)$/);
    expect(words.slice(1)).toEqual(['run']);
    const launcher = readLauncher(ROOT);
    for (const name of [...Object.keys(launcher.env), 'NODE_OPTIONS'])
      expect(env.has(name), `Environment=${name}`).toBe(false);
    expect(service.has('ExecStartPre')).toBe(false);
  });

  it('runs as a dedicated user whose only writable place is the data dir systemd creates', () => {
    expect(one('User')).toMatch(/^outpost$/);
    expect(service.has('DynamicUser')).toBe(false);
    const state = one('StateDirectory');
    expect(state).toBe('outpost');
    const dataDir = `/var/lib/${state}`;
    expect(env.get('OUTPOST_DATA_DIR')).toBe(dataDir);
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')?.split(/\s+/)).toEqual([dataDir]);
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('');
    // V8 compiles machine code into memory it then runs: this would kill the agent.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('is Type=notify with a watchdog the agent itself (the main PID, execed by the launcher) pets', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(readFileSync(join(ROOT, 'bin', 'outpost'), 'utf8')).toMatch(/^exec node /m);
    const watchdog = /^(\d+)s$/.exec(one('WatchdogSec') ?? '')?.[1];
    expect(Number(watchdog)).toBeGreaterThanOrEqual(10);
    // Restart=on-failure covers a watchdog timeout (systemd.service(5)).
    expect(one('Restart')).toBe('on-failure');
  });

  it('stops with SIGTERM and waits exactly as long as the agent promises, restarts on failure', () => {
    expect(one('KillSignal')).toBe('SIGTERM');
    const promise = /within (\d+) s/.exec(runHelp)?.[1];
    expect(promise, '`outpost run --help` states its stop promise').toBeDefined();
    expect(one('TimeoutStopSec')).toBe(`${promise}s`);
    expect(one('Restart')).toBe('on-failure');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });
});
