import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

function disks(yaml: string) {
  return parseConfig(`node: { id: edge }\ndisks: ${yaml}\n`, { env: {} }).config.disks;
}

function problems(yaml: string): string[] {
  try {
    disks(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('disks config', () => {
  it('is off unless the section is there; an empty section takes the defaults', () => {
    expect(parseConfig('node: { id: edge }\n', { env: {} }).config.disks).toBeUndefined();
    expect(disks('{}')).toEqual({
      poll_every: 60_000,
      timeout: 15_000,
      exclude: [],
      warn: 85,
      critical: 95,
      hysteresis: 2,
      window: 6 * 3_600_000,
      fill_warn: 24 * 3_600_000,
      mounts: [],
      smart: {
        enabled: true,
        poll_every: 30 * 60_000,
        timeout: 60_000,
        command: ['smartctl'],
        stable_after: 24 * 3_600_000,
      },
      cleanup_timeout: 10 * 60_000,
      cleanup_on_critical: false,
    });
  });

  it('takes globs, thresholds and per-mount overrides', () => {
    const d = disks(`
  poll_every: 30s
  include: ["/", "/mnt/*"]
  exclude: ["/mnt/scratch"]
  warn: 80
  critical: 90
  window: 2h
  fill_warn: 12h
  mounts:
    - { path: /mnt/backup, warn: 95, critical: 99, hysteresis: 1 }`)!;
    expect(d).toMatchObject({
      poll_every: 30_000,
      include: ['/', '/mnt/*'],
      exclude: ['/mnt/scratch'],
      warn: 80,
      critical: 90,
      window: 7_200_000,
      fill_warn: 43_200_000,
      mounts: [{ path: '/mnt/backup', warn: 95, critical: 99, hysteresis: 1 }],
    });
  });

  it('names the field, the value and what it expected', () => {
    expect(problems('{ warn: 101 }')).toContain(
      'disks.warn: expected the warning level as a percentage from 0 to 100, such as 85, got 101',
    );
    expect(problems('{ warn: "85%" }')).toEqual([
      'disks.warn: expected the warning level as a percentage from 0 to 100, such as 85, got "85%"',
    ]);
    expect(problems('{ include: [data] }')).toEqual([
      'disks.include[0]: expected a mount point or glob such as "/", "/mnt/*" or "/srv/data", got "data"',
    ]);
    expect(problems('{ poll_every: 60 }')).toEqual([
      'disks.poll_every: expected a duration such as "60s" (units ms, s, m, h, d), got 60',
    ]);
    expect(problems('{ mounts: [{ path: /srv, size: 3 }] }')).toEqual([
      'disks.mounts[0].size: unknown key; expected one of: path, warn, critical, hysteresis, cleanup',
    ]);
  });

  it('refuses levels that could never clear, per mount too', () => {
    expect(problems('{ warn: 95, critical: 90 }')).toEqual([
      'disks.warn: expected warn below critical (90), got 95',
    ]);
    expect(problems('{ hysteresis: 90 }')).toEqual([
      'disks.hysteresis: expected a hysteresis margin below warn (85), got 90',
    ]);
    expect(problems('{ mounts: [{ path: /srv, critical: 80 }] }')).toEqual([
      'disks.mounts[0].warn: expected warn below critical (80), got 85',
    ]);
  });

  it("refuses a mount's cleanup that names no host's job", () => {
    const problemsOf = (yaml: string): string[] => {
      try {
        parseConfig(yaml, { env: {} });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
        throw err;
      }
      return [];
    };
    const hosts = 'hosts: [{ id: local, cleanup: { journal: [journalctl, --vacuum-size=200M] } }]';
    expect(
      problemsOf(
        `node: { id: edge }\n${hosts}\ndisks: { mounts: [{ path: /, cleanup: [journal] }] }\n`,
      ),
    ).toEqual([]);
    expect(
      problemsOf(
        `node: { id: edge }\n${hosts}\ndisks: { mounts: [{ path: /, cleanup: [jounral] }] }\n`,
      ),
    ).toEqual([
      'disks.mounts[0].cleanup[0]: expected the id of a cleanup job in hosts[].cleanup (journal), got "jounral"',
    ]);
  });
});
