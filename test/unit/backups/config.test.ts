import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

const HOSTS = `hosts:
  - id: local
  - id: nas
    ssh: { host: 127.0.0.1, user: backup, host_key: "SHA256:${'A'.repeat(43)}" }
`;

function backups(yaml: string, extra = '') {
  return parseConfig(`node: { id: edge }\n${HOSTS}${extra}backups: ${yaml}\n`, { env: {} }).config
    .backups;
}

function problems(yaml: string, extra = ''): string[] {
  try {
    backups(yaml, extra);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('backups config', () => {
  it('is off unless the section is there; a job takes its defaults', () => {
    expect(parseConfig('node: { id: edge }\n', { env: {} }).config.backups).toBeUndefined();
    const b = backups(`
  jobs:
    - name: photos
      command: [rsync, -a, --stats, /src/, /dst/]
      schedule: "0 3 * * *"
      timezone: Europe/Paris
      max_age: 26h
      size: rsync_stats
      catch_up: true
    - { name: etcd, max_age: 25h }
    - { name: snaps, host: nas, watch_path: /mnt/snaps, max_age: 8d }`);
    expect(b).toMatchObject({ check_every: 60_000, tail: 4096, jobs: expect.any(Array) });
    expect(b!.jobs[0]).toEqual({
      name: 'photos',
      host: 'local',
      command: ['rsync', '-a', '--stats', '/src/', '/dst/'],
      schedule: '0 3 * * *',
      timezone: 'Europe/Paris',
      timeout: 3_600_000,
      max_age: 26 * 3_600_000,
      retries: 0,
      backoff: { initial: 60_000, max: 1_800_000 },
      size: 'rsync_stats',
      catch_up: true,
    });
    expect(b!.jobs[2]).toMatchObject({ host: 'nas', watch_path: '/mnt/snaps' });
  });

  it('names the field, the value and what it expected', () => {
    const p = problems(`
  jobs:
    - name: "bad name"
      max_age: 1h
    - name: cron
      command: [/bin/true]
      schedule: "61 * * * *"
      timezone: Mars/Olympus
      max_age: 1h
    - name: what
      command: []
      max_age: soon
      size: du`);
    expect(p).toEqual([
      'backups.jobs[0].name: expected a backup job id of letters, digits, _ or -, got "bad name"',
      'backups.jobs[1].schedule: expected a cron expression such as "0 3 * * *" (min hour day month weekday), got "61 * * * *"',
      'backups.jobs[1].timezone: expected an IANA time zone such as "Europe/Paris" or "UTC", got "Mars/Olympus"',
      'backups.jobs[2].command: expected the command as a list of words such as [rsync, -a, --stats, /src, /dst], got a list of 0',
      'backups.jobs[2].max_age: expected a duration such as "26h" (units ms, s, m, h, d), got "soon"',
      'backups.jobs[2].size: expected rsync_stats or { path: "/backups/db.dump" }, got "du"',
    ]);
  });

  it('checks a job’s host against hosts once the rest is valid', () => {
    expect(problems('{ jobs: [{ name: where, host: mars, max_age: 1h }] }')).toEqual([
      'backups.jobs[0].host: expected local or a host id from hosts (local, nas), got "mars"',
    ]);
  });

  it('refuses keys that do not fit the job’s kind, and repeated names', () => {
    const p = problems(`
  jobs:
    - { name: a, schedule: "0 3 * * *", max_age: 1h }
    - { name: b, command: [/bin/true], watch_path: /x, max_age: 1h }
    - { name: c, command: [/bin/true], catch_up: true, max_age: 1h }
    - { name: d, max_age: 1h, size: rsync_stats }`);
    expect(p).toEqual([
      'backups.jobs[0].schedule: expected a schedule only on a job with a command (the agent runs it), got "0 3 * * *"',
      'backups.jobs[1].watch_path: expected either command (a job the agent runs) or watch_path, not both, got "/x"',
      'backups.jobs[2].catch_up: expected a schedule with catch_up: a missed run is a missed scheduled run, got true',
      'backups.jobs[3].size: expected a size source only on a job with a command (the agent runs it), got "rsync_stats"',
    ]);
    expect(problems('{ jobs: [{ name: c, max_age: 1h }, { name: c, max_age: 2h }] }')).toEqual([
      'backups.jobs[1].name: expected a unique backup job name, got "c"',
    ]);
  });

  it('needs a ping token when the HTTP listener is not loopback', () => {
    const open = 'http: { enabled: true, listen: "0.0.0.0:8099" }\n';
    expect(problems('{ jobs: [] }', open)).toEqual([
      'backups.ping_token: expected a ping token: http.listen (0.0.0.0) is not loopback, got nothing',
    ]);
    expect(problems(`{ ping_token: "${'t'.repeat(16)}" }`, open)).toEqual([]);
    expect(problems('{}', 'http: { enabled: true, listen: "127.0.0.1:8099" }\n')).toEqual([]);
  });
});
