import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';

/**
 * Both compose files as Compose v1 (docker-compose 1.29, what edge sites run) reads them:
 * only keys its schema knows, nothing it ignores (deploy:), and every variable with a
 * default so `up` needs no .env, each one documented in docs/docker.md's table.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const DOCKER = join(ROOT, 'docker');
const FILES = ['compose.yaml', 'compose.embedded.yaml'] as const;
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

/** docker-compose 1.29.2, compose/config/compose_spec.json: top-level properties. */
const V1_TOP = ['configs', 'networks', 'secrets', 'services', 'version', 'volumes'];
/** …and definitions.service.properties. */
const V1_SERVICE = `blkio_config build cap_add cap_drop cgroup_parent command configs container_name
  cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset
  credential_spec depends_on deploy device_cgroup_rules devices dns dns_opt dns_search domainname
  entrypoint env_file environment expose extends external_links extra_hosts group_add healthcheck
  hostname image init ipc isolation labels links logging mac_address mem_limit mem_reservation
  mem_swappiness memswap_limit network_mode networks oom_kill_disable oom_score_adj pid pids_limit
  platform ports privileged profiles pull_policy read_only restart runtime scale secrets
  security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty
  ulimits user userns_mode volumes volumes_from working_dir`.split(/\s+/);
/** Known to v1's schema but not done by it: deploy.resources only under --compatibility. */
const V1_IGNORED = ['deploy'];

type Service = Record<string, unknown>;
interface Compose {
  services: Record<string, Service>;
  [key: string]: unknown;
}

/** Compose's variable references: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`; `$$` is a dollar. */
function references(text: string): { name: string; op: string | undefined }[] {
  const found: { name: string; op: string | undefined }[] = [];
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$(?:\{(\w+)(:?[-?+])?[^}]*\}|(\w+))/g)) {
    found.push({ name: m[1] ?? m[3]!, op: m[2] });
  }
  return found;
}

const dockerDoc = read(ROOT, 'docs/docker.md');

describe('references', () => {
  it('finds each form and leaves $$ (a literal dollar) alone', () => {
    expect(references('a ${A:-x} ${B} $C ${D:?no} $${E} $$F')).toEqual([
      { name: 'A', op: ':-' },
      { name: 'B', op: undefined },
      { name: 'C', op: undefined },
      { name: 'D', op: ':?' },
    ]);
  });
});

describe.each(FILES)('docker/%s under Compose v1', (file) => {
  const text = read(DOCKER, file);
  const compose = parse(text) as Compose;

  it('uses only top-level keys docker-compose 1.29 accepts (no "name:")', () => {
    for (const key of Object.keys(compose)) {
      expect(V1_TOP.includes(key) || key.startsWith('x-'), `top-level ${key}`).toBe(true);
    }
  });

  it('uses only service keys 1.29 knows, and none it would ignore; memory bounded by mem_limit', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const key of Object.keys(svc)) {
        expect(V1_SERVICE, `${name}.${key}`).toContain(key);
        expect(V1_IGNORED, `${name}.${key}`).not.toContain(key);
      }
      expect(svc.mem_limit, `${name}.mem_limit`).toBeDefined();
    }
  });

  it('starts without a .env: every variable has a default, and each is in docs/docker.md', () => {
    const refs = references(text);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) {
      expect(r.op, `\${${r.name}} needs a default (\${${r.name}:-…})`).toBe(':-');
      expect(dockerDoc, `docs/docker.md documents ${r.name}`).toContain(`\`${r.name}\``);
    }
  });

  it('mounts a config that loads with the defaults compose gives', () => {
    const svc = compose.services.outpost!;
    const volumes = svc.volumes as string[];
    const config = volumes.find((v) => v.split(':')[1] === '/etc/outpost/config.yaml');
    const source = config!.split(':')[0]!;
    const env: Record<string, string> = { OUTPOST_DATA_DIR: '/var/lib/outpost' };
    for (const [k, v] of Object.entries(svc.environment as Record<string, string>)) {
      env[k] = v.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
    }
    // compose.yaml's entrypoint reads the generated password when MQTT_PASSWORD is empty.
    if (env.MQTT_PASSWORD === '') env.MQTT_PASSWORD = 'generated';
    const { config: loaded } = parseConfig(read(DOCKER, source), {
      env,
      file: '/etc/outpost/config.yaml',
    });
    expect(loaded.node.id).toBe('edge-01');
    expect(loaded.hosts.map((h) => h.id)).toEqual(['local']);
  });
});

describe('docker/compose.embedded.yaml', () => {
  const compose = parse(read(DOCKER, 'compose.embedded.yaml')) as Compose;
  it('runs outpost alone with its embedded broker published on the host', () => {
    expect(Object.keys(compose.services)).toEqual(['outpost']);
    const { config } = parseConfig(read(DOCKER, 'outpost.embedded.yaml'), {
      env: { OUTPOST_DATA_DIR: '/var/lib/outpost' },
      file: '/etc/outpost/config.yaml',
    });
    expect(config.broker.mode).toBe('embedded');
    expect(compose.services.outpost!.ports).toEqual([
      `\${OUTPOST_MQTT_PORT:-1883}:${config.broker.listen.port}`,
    ]);
    // Anonymous clients may read; no user with an empty password stands in for HA's login.
    expect(config.broker.users).toEqual([]);
  });
});

describe('docker/compose.yaml', () => {
  const compose = parse(read(DOCKER, 'compose.yaml')) as Compose;
  it('gives outpost the password mosquitto writes, from .env or generated in the shared volume', () => {
    const { outpost, mosquitto } = compose.services;
    const secrets = (s: Service) =>
      (s.volumes as string[]).find((v) => v.startsWith('outpost-secrets:'))?.split(':');
    expect(secrets(outpost!)).toEqual(['outpost-secrets', '/run/outpost-secrets', 'ro']);
    expect(secrets(mosquitto!)?.slice(0, 2)).toEqual(['outpost-secrets', '/run/outpost-secrets']);
    const file = '/run/outpost-secrets/mqtt_password';
    expect((outpost!.entrypoint as string[]).join(' ')).toContain(file);
    expect((mosquitto!.command as string[]).join(' ')).toContain(file);
    // outpost starts once the file is there.
    expect(outpost!.depends_on).toEqual({ mosquitto: { condition: 'service_healthy' } });
    expect(JSON.stringify(mosquitto!.healthcheck)).toContain(file);
  });
});
