import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SMART_FILE, SmartBaselines } from '../../../src/capabilities/disks/smart/baselines.js';
import {
  deviceProblem,
  parseReport,
  parseScan,
  parseScanText,
  type SmartDevice,
  type SmartHealth,
} from '../../../src/capabilities/disks/smart/parse.js';
import { smartReadingOf, type SmartReading } from '../../../src/capabilities/disks/smart/reader.js';
import { SMART_MARKER, smartScript } from '../../../src/capabilities/disks/smart/script.js';
import { SmartTracker, type SmartState } from '../../../src/capabilities/disks/smart/tracker.js';
import type { NewEvent } from '../../../src/core/events.js';
import { createLogger } from '../../../src/core/logger.js';
import { Incidents } from '../../../src/state/incidents.js';

/**
 * SMART (issue #16) from JSON in the shape smartctl 7.3 prints with `-j`: a healthy SATA
 * disk, a failing one and an NVMe drive (test/fixtures/smartctl; this VM's disk has none).
 */
const FIXTURES = join(import.meta.dirname, '../../fixtures/smartctl');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const sda: SmartDevice = { name: '/dev/sda', type: 'sat' };
const sdb: SmartDevice = { name: '/dev/sdb', type: 'sat' };
const nvme: SmartDevice = { name: '/dev/nvme0', type: 'nvme' };

function healthOf(device: SmartDevice, text: string): SmartHealth {
  const r = parseReport(device, text);
  if ('error' in r) throw new Error(`expected health, got: ${r.error}`);
  return r.health;
}
function errorOf(device: SmartDevice, text: string): string {
  const r = parseReport(device, text);
  if (!('error' in r)) throw new Error('expected an error, got health');
  return r.error;
}

describe('smartctl -j output', () => {
  it('lists the scanned devices with their -d types', () => {
    expect(parseScan(fixture('scan.json'))).toEqual([sda, sdb, nvme]);
    expect(parseScanText(fixture('scan.txt'))).toEqual([sda, sdb, nvme]);
  });

  it('reads a healthy SATA disk', () => {
    expect(healthOf(sda, fixture('sata-healthy.json'))).toEqual({
      model: 'WDC WD40EFRX-68N32N0',
      serial: 'WD-WCC7K1ABCDEF',
      protocol: 'ATA',
      passed: true,
      temperatureC: 34,
      reallocated: 0,
      pending: 0,
      powerOnHours: 21873,
    });
  });

  it('reads a failing SATA disk (exit status 200: failing, prefail attributes, errors logged)', () => {
    expect(healthOf(sdb, fixture('sata-failing.json'))).toMatchObject({
      passed: false,
      temperatureC: 41,
      reallocated: 1904,
      pending: 24,
      powerOnHours: 43112,
    });
  });

  it('reads an NVMe drive: no sector counters, its own log for the rest', () => {
    expect(healthOf(nvme, fixture('nvme-healthy.json'))).toEqual({
      model: 'Samsung SSD 970 EVO Plus 1TB',
      serial: 'S4EWNX0R123456A',
      protocol: 'NVMe',
      passed: true,
      temperatureC: 38,
      reallocated: null,
      pending: null,
      powerOnHours: 9876,
    });
  });

  it('gives a truncated report as that device’s error, no numbers', () => {
    const text = fixture('sata-failing.json');
    for (const cut of [10, text.length / 3, text.length - 3]) {
      expect(errorOf(sdb, text.slice(0, Math.floor(cut)))).toMatch(
        /^\/dev\/sdb's SMART report is not whole JSON/,
      );
    }
    expect(errorOf(sdb, '')).toBe("/dev/sdb's SMART report is empty");
  });

  it('names the field when a value has the wrong type or is out of range', () => {
    const report = JSON.parse(fixture('sata-healthy.json')) as Record<string, unknown>;
    const hot = { ...report, temperature: { current: 'hot' } };
    expect(errorOf(sda, JSON.stringify(hot))).toMatch(/^\/dev\/sda: temperature\.current: /);
    const odd = { ...report, temperature: { current: 1200 } };
    expect(errorOf(sda, JSON.stringify(odd))).toMatch(/^\/dev\/sda: temperature\.current: /);
    const table = { table: [{ id: 5, raw: { value: -1 } }] };
    expect(errorOf(sda, JSON.stringify({ ...report, ata_smart_attributes: table }))).toMatch(
      /^\/dev\/sda: ata_smart_attributes\.table\.0\.raw\.value: /,
    );
  });

  it('reports a device smartctl could not open with smartctl’s own words', () => {
    const text = JSON.stringify({
      smartctl: {
        exit_status: 2,
        messages: [{ string: 'Smartctl open device: /dev/sda failed: Permission denied' }],
      },
    });
    expect(errorOf(sda, text)).toBe(
      '/dev/sda: smartctl could not read it: Smartctl open device: /dev/sda failed: Permission denied',
    );
  });

  it('refuses device names and types that are not plain', () => {
    expect(deviceProblem(sda)).toBeUndefined();
    expect(deviceProblem({ name: '/dev/bus/0', type: 'megaraid,1' })).toBeUndefined();
    for (const name of [
      '/dev/sda; rm -rf /',
      '/dev/../etc/passwd',
      'sda',
      '/dev/$(id)',
      '/dev/a b',
    ]) {
      expect(deviceProblem({ name, type: 'sat' })).toMatch(/^refusing device name/);
    }
    expect(deviceProblem({ name: '/dev/sda', type: 'sat -T permissive' })).toMatch(
      /^refusing device type/,
    );
  });
});

describe('the remote SMART script', () => {
  const report = (parts: string[]) => parts.join('\n');
  const m = (s: string) => `${SMART_MARKER}${s}`;

  it('is fixed text: only the configured command enters it, quoted', () => {
    const s = smartScript(['sudo', '-n', "smart'ctl"]);
    expect(s.startsWith("sh -c '")).toBe(true);
    expect(s).not.toContain('\n');
    expect(s).toContain(`'\\''sudo'\\'' '\\''-n'\\''`);
  });

  it('reads each device’s report from the output, per-device errors apart', () => {
    const out = report([
      m('scan'),
      fixture('scan.txt'),
      m('device /dev/sda sat'),
      fixture('sata-healthy.json'),
      m('device /dev/sdb sat'),
      fixture('sata-failing.json').slice(0, 500),
      m('device /dev/nvme0 nvme'),
      fixture('nvme-healthy.json'),
      m('end'),
    ]);
    const r = smartReadingOf(out);
    expect(r.kind).toBe('devices');
    const devices = (r as Extract<SmartReading, { kind: 'devices' }>).devices;
    expect(devices.map((d) => ('error' in d ? 'error' : d.health.passed))).toEqual([
      true,
      'error',
      true,
    ]);
  });

  it('says absent when there is no smartctl, and distrusts output without its end', () => {
    expect(smartReadingOf(m('absent'))).toEqual({ kind: 'absent' });
    const cut = report([m('scan'), fixture('scan.txt'), m('device /dev/sda sat'), '{']);
    expect(smartReadingOf(cut)).toEqual({
      kind: 'error',
      error: 'the SMART report ended early (no end marker): output truncated',
    });
  });
});

describe('SMART incidents', () => {
  const HOUR = 3_600_000;
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A fresh agent's tracker; with `dataDir`, its counts kept in that directory's smart.json. */
  function setup(dataDir?: string) {
    const events: NewEvent[] = [];
    const states = new Map<string, SmartState | undefined>();
    const book = new Incidents();
    const log = createLogger({ level: 'silent' });
    const tracker = new SmartTracker({
      incidents: book,
      stableAfterMs: 24 * HOUR,
      ...(dataDir ? { baselines: new SmartBaselines(dataDir, log) } : {}),
      onEvent: (e) => events.push(e),
    });
    let at = Date.parse('2026-12-06T10:00:00Z');
    const apply = (r: SmartReading, stepMs = HOUR) => {
      at += stepMs;
      tracker.apply('nas', r, at, (k, s) => states.set(k, s));
    };
    return { events, states, book, apply };
  }
  const health = (device: SmartDevice, file: string, patch: Partial<SmartHealth> = {}) => {
    const h = healthOf(device, fixture(file));
    return { device, health: { ...h, ...patch } };
  };
  const devices = (...ds: ReturnType<typeof health>[]): SmartReading => ({
    kind: 'devices',
    devices: ds,
  });
  const types = (es: NewEvent[]) => es.map((e) => `${e.type}:${e.severity}:${e.subject}`);

  it('opens an incident on a failed verdict and closes it when the drive passes again', () => {
    const t = setup();
    t.apply(devices(health(sda, 'sata-healthy.json'), health(sdb, 'sata-failing.json')));
    expect(types(t.events)).toEqual(['disk_smart_failed:critical:nas:smart:/dev/sdb']);
    expect(t.states.get('sdb')).toMatchObject({ health: 'failed', problem: true, error: null });
    expect(t.states.get('sda')).toMatchObject({
      health: 'passed',
      problem: false,
      temperature_c: 34,
      reallocated: 0,
    });
    expect(t.book.get('disk', 'nas:smart:/dev/sdb')?.severity).toBe('critical');
    t.apply(devices(health(sdb, 'sata-failing.json', { passed: true })));
    expect(types(t.events).at(-1)).toBe('disk_recovered:info:nas:smart:/dev/sdb');
    expect(t.book.list('disk')).toEqual([]);
  });

  it('raises a rising reallocated count, and settles once it holds for stable_after', () => {
    const t = setup();
    t.apply(devices(health(sda, 'sata-healthy.json')));
    t.apply(devices(health(sda, 'sata-healthy.json')));
    expect(t.events).toEqual([]);
    t.apply(devices(health(sda, 'sata-healthy.json', { reallocated: 8 })));
    expect(types(t.events)).toEqual(['disk_sectors_reallocated:warning:nas:smart:/dev/sda']);
    expect(t.events[0]!.data).toMatchObject({ reallocated: 8, previous_reallocated: 0 });
    expect(t.states.get('sda')).toMatchObject({ reallocating: true, problem: true });
    t.apply(devices(health(sda, 'sata-healthy.json', { reallocated: 8 })), 23 * HOUR);
    expect(t.events).toHaveLength(1);
    t.apply(devices(health(sda, 'sata-healthy.json', { reallocated: 8 })), 1 * HOUR);
    expect(types(t.events).at(-1)).toBe('disk_recovered:info:nas:smart:/dev/sda');
    expect(t.states.get('sda')).toMatchObject({ reallocating: false, problem: false });
  });

  it('keeps verdicts through a failed poll, without numbers, and drops a drive that is gone', () => {
    const t = setup();
    t.apply(devices(health(sdb, 'sata-failing.json'), health(nvme, 'nvme-healthy.json')));
    t.apply({ kind: 'error', error: 'nas (ssh): not connected' });
    expect(t.states.get('sdb')).toMatchObject({
      health: 'unknown',
      temperature_c: null,
      problem: true,
      error: 'nas (ssh): not connected',
    });
    expect(t.book.list('disk')).toHaveLength(1);
    t.apply(devices(health(nvme, 'nvme-healthy.json')));
    expect(t.states.get('sdb')).toBeUndefined();
    expect(types(t.events).at(-1)).toBe('disk_recovered:info:nas:smart:/dev/sdb');
  });

  it('remembers each drive’s count across a restart, by serial number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-smart-'));
    dirs.push(dir);
    const before = setup(dir);
    before.apply(devices(health(sda, 'sata-healthy.json', { reallocated: 3 })));
    expect(before.events).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, SMART_FILE), 'utf8'))).toMatchObject({
      hosts: { nas: { [`serial:${healthOf(sda, fixture('sata-healthy.json')).serial}`]: 3 } },
    });
    // The drive reallocated 4 more while the agent was down: news at the first reading.
    const after = setup(dir);
    after.apply(devices(health(sda, 'sata-healthy.json', { reallocated: 7 })));
    expect(types(after.events)).toEqual(['disk_sectors_reallocated:warning:nas:smart:/dev/sda']);
    expect(after.events[0]!.data).toMatchObject({ reallocated: 7, previous_reallocated: 3 });
    // Another drive behind /dev/sda starts from its own count, not the old drive's.
    const swapped = setup(dir);
    swapped.apply(
      devices(health(sda, 'sata-healthy.json', { serial: 'NEW-DRIVE-1', reallocated: 12 })),
    );
    expect(swapped.events).toEqual([]);
    // Without a file, a restart starts from the next reading, as before.
    const memoryOnly = setup();
    memoryOnly.apply(devices(health(sda, 'sata-healthy.json', { reallocated: 9 })));
    expect(memoryOnly.events).toEqual([]);
  });
});
