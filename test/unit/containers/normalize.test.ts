import { describe, expect, it } from 'vitest';
import {
  dedupeByKey,
  engineTime,
  healthOf,
  observe,
  runState,
} from '../../../src/collectors/containers/normalize.js';
import { ContainerSelector } from '../../../src/collectors/containers/selection.js';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import { parseInspectOne, type InspectRecord } from '../../../src/hosts/inspect-schema.js';
import {
  DOCKER_ID,
  dockerApiRecord,
  olderPodmanRecord,
  podmanCliRecord,
  withState,
} from './fixtures.js';

const all = new ContainerSelector({});
const rec = (r: Record<string, unknown>): InspectRecord => parseInspectOne(r, 'test');
const NOW = Date.parse('2026-11-22T02:54:13.403Z');

describe('normalising inspect records', () => {
  it('turns a docker API record into an observation', () => {
    const o = observe(
      'local',
      rec(dockerApiRecord()),
      new ContainerSelector({ critical: ['hc'] }),
      NOW,
    );
    expect(o).toEqual({
      host: 'local',
      key: 'hc',
      id: DOCKER_ID,
      name: 'hc',
      image: 'busybox:test',
      state: 'running',
      health: 'unhealthy',
      exitCode: null,
      restartCount: 0,
      startedAt: '2026-11-22T01:54:13.403736199Z',
      finishedAt: null,
      uptimeMs: 3_600_000,
      oomKilled: false,
      error: null,
      // Only what the agent reads: `a` is dropped on arrival.
      labels: { 'com.docker.compose.project': 'p' },
      critical: true,
      observedAt: NOW,
    });
  });

  it('keeps the labels the agent reads and drops the rest', () => {
    const record = dockerApiRecord();
    const config = record.Config as Record<string, unknown>;
    config.Labels = {
      'com.docker.compose.project': 'home',
      'com.docker.compose.service': 'z2m',
      'com.docker.compose.container-number': '2',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.config-hash': 'f'.repeat(64),
      'com.docker.compose.project.working_dir': '/srv/home',
      'org.opencontainers.image.description': 'x'.repeat(500),
      'outpost.critical': 'true',
      'outpost.note': 'kept',
    };
    const o = observe('local', rec(record), all, NOW)!;
    expect(o.labels).toEqual({
      'com.docker.compose.project': 'home',
      'com.docker.compose.service': 'z2m',
      'com.docker.compose.container-number': '2',
      'com.docker.compose.oneoff': 'False',
      'outpost.critical': 'true',
      'outpost.note': 'kept',
    });
    // Identity and selection read the whole set, before anything is dropped.
    expect(o.key).toBe('home-z2m-2');
    expect(o.critical).toBe(true);
  });

  it('reads podman CLI and older podman records the same way', () => {
    const p = observe('nas', rec(podmanCliRecord()), all, NOW)!;
    expect([p.name, p.image, p.state, p.health]).toEqual([
      'hc',
      'localhost/busybox:test',
      'running',
      'unhealthy',
    ]);
    const old = observe('nas', rec(olderPodmanRecord()), all, NOW)!;
    expect([old.state, old.health, old.uptimeMs]).toEqual(['exited', 'unhealthy', null]);
  });

  it('maps every state word of both engines to one of six', () => {
    const words: [string, string][] = [
      ['running', 'running'],
      ['exited', 'exited'],
      ['created', 'created'],
      ['dead', 'dead'],
      ['removing', 'exited'],
      ['configured', 'created'],
      ['initialized', 'created'],
      ['stopped', 'exited'],
      ['stopping', 'running'],
      ['Running', 'running'],
      ['something-new', 'dead'],
    ];
    for (const [word, expected] of words) {
      const r = rec(
        withState(dockerApiRecord(), { Status: word, Paused: false, Restarting: false }),
      );
      expect([word, runState(r)]).toEqual([word, expected]);
    }
    expect(runState(rec(withState(dockerApiRecord(), { Paused: true })))).toBe('paused');
    expect(runState(rec(withState(dockerApiRecord(), { Restarting: true })))).toBe('restarting');
  });

  it('reads health as none without a healthcheck and for unknown words', () => {
    const { Health: _h, ...state } = dockerApiRecord().State as Record<string, unknown>;
    expect(healthOf(rec({ ...dockerApiRecord(), State: state }))).toBe('none');
    expect(healthOf(rec(withState(dockerApiRecord(), { Health: { Status: '' } })))).toBe('none');
    expect(healthOf(rec(withState(dockerApiRecord(), { Health: { Status: 'starting' } })))).toBe(
      'starting',
    );
  });

  it('keeps a real exit code and treats Go zero time as never', () => {
    const exited = withState(dockerApiRecord(), {
      Status: 'exited',
      Running: false,
      ExitCode: 0,
      FinishedAt: '2026-11-22T02:00:00Z',
      OOMKilled: true,
      Error: 'oom',
    });
    const o = observe('local', rec(exited), all, NOW)!;
    expect([o.exitCode, o.finishedAt, o.oomKilled, o.error, o.uptimeMs]).toEqual([
      0,
      '2026-11-22T02:00:00Z',
      true,
      'oom',
      null,
    ]);
    expect(engineTime('0001-01-01T00:00:00Z')).toBeNull();
    expect(engineTime('')).toBeNull();
    expect(engineTime('not a time')).toBeNull();
  });

  it('keys compose containers by project-service and skips unmonitored ones', () => {
    const labels = {
      'com.docker.compose.project': 'infra',
      'com.docker.compose.service': 'mosquitto',
      'com.docker.compose.container-number': '1',
    };
    const r = dockerApiRecord({
      Name: '/infra-mosquitto-1',
      Config: { Image: 'm', Labels: labels },
    });
    expect(observe('local', rec(r), all, NOW)!.key).toBe('infra-mosquitto');
    const hidden = dockerApiRecord({
      Config: { Image: 'm', Labels: { 'outpost.monitor': 'false' } },
    });
    expect(observe('local', rec(hidden), all, NOW)).toBeUndefined();
  });

  it('keeps one observation per key: the running one, else the latest started', () => {
    const base = observe('local', rec(dockerApiRecord()), all, NOW)!;
    const o = (id: string, state: ContainerObservation['state'], startedAt: string) =>
      ({ ...base, id: id.repeat(12), state, startedAt }) as ContainerObservation;
    const old = o('a', 'exited', '2026-01-01T00:00:00Z');
    const fresh = o('b', 'running', '2025-01-01T00:00:00Z');
    expect(dedupeByKey([old, fresh]).map((x) => x.id)).toEqual([fresh.id]);
    expect(dedupeByKey([fresh, old]).map((x) => x.id)).toEqual([fresh.id]);
    const newer = o('c', 'exited', '2026-06-01T00:00:00Z');
    expect(dedupeByKey([old, newer]).map((x) => x.id)).toEqual([newer.id]);
  });
});
