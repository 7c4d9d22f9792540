import { describe, expect, it } from 'vitest';
import { containerKey, matchableNames } from '../../../src/collectors/containers/identity.js';
import {
  ContainerSelector,
  globToRegExp,
  labelFlag,
} from '../../../src/collectors/containers/selection.js';

const compose = (
  project: string,
  service: string,
  n = '1',
  extra: Record<string, string> = {},
) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  'com.docker.compose.container-number': n,
  ...extra,
});

describe('container identity', () => {
  it('keys by compose project-service (replica number above 1), else by name', () => {
    expect(containerKey({ name: '/mosquitto' })).toBe('mosquitto');
    expect(containerKey({ name: 'infra-mqtt-1', labels: compose('infra', 'mqtt') })).toBe(
      'infra-mqtt',
    );
    expect(containerKey({ name: 'infra-mqtt-2', labels: compose('infra', 'mqtt', '2') })).toBe(
      'infra-mqtt-2',
    );
  });

  it('keys a `compose run` one-off by its own name, not the service it runs', () => {
    const labels = compose('infra', 'mqtt', '1', { 'com.docker.compose.oneoff': 'True' });
    expect(containerKey({ name: 'infra-mqtt-run-3f2a', labels })).toBe('infra-mqtt-run-3f2a');
  });

  it('lets patterns match the name, the compose service and the key', () => {
    expect(matchableNames({ name: 'infra-mqtt-1', labels: compose('infra', 'mqtt') })).toEqual([
      'infra-mqtt-1',
      'infra-mqtt',
      'mqtt',
    ]);
  });
});

describe('container selection', () => {
  it('turns globs into anchored expressions with * and ? only', () => {
    expect(globToRegExp('media-*').test('media-radarr')).toBe(true);
    expect(globToRegExp('media-*').test('xmedia-radarr')).toBe(false);
    expect(globToRegExp('db?').test('db1')).toBe(true);
    expect(globToRegExp('db?').test('db12')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('watches everything by default and nothing critical', () => {
    expect(new ContainerSelector({}).select({ name: 'x' })).toEqual({
      monitored: true,
      critical: false,
    });
  });

  it('applies include, then exclude, then critical', () => {
    const s = new ContainerSelector({
      include: ['media-*', 'mosquitto'],
      exclude: ['media-tmp*'],
      critical: ['mosquitto', 'media-r*'],
    });
    expect(s.select({ name: 'mosquitto' })).toEqual({ monitored: true, critical: true });
    expect(s.select({ name: 'media-radarr' })).toEqual({ monitored: true, critical: true });
    expect(s.select({ name: 'media-sonarr' })).toEqual({ monitored: true, critical: false });
    expect(s.select({ name: 'media-tmp1' })).toEqual({ monitored: false, critical: false });
    expect(s.select({ name: 'grafana' })).toEqual({ monitored: false, critical: false });
  });

  it('matches critical names against the compose service', () => {
    const s = new ContainerSelector({ critical: ['mosquitto'] });
    expect(
      s.select({ name: 'infra-mosquitto-1', labels: compose('infra', 'mosquitto') }).critical,
    ).toBe(true);
  });

  it('lets labels override the config both ways', () => {
    const s = new ContainerSelector({ exclude: ['*'], critical: ['db'] });
    expect(s.select({ name: 'x', labels: { 'outpost.monitor': 'true' } })).toEqual({
      monitored: true,
      critical: false,
    });
    expect(s.select({ name: 'x', labels: { 'outpost.critical': 'true' } })).toEqual({
      monitored: true,
      critical: true,
    });
    const all = new ContainerSelector({ critical: ['db'] });
    expect(all.select({ name: 'db', labels: { 'outpost.critical': 'false' } })).toEqual({
      monitored: true,
      critical: false,
    });
    expect(all.select({ name: 'db', labels: { 'outpost.monitor': 'false' } })).toEqual({
      monitored: false,
      critical: false,
    });
    expect(all.select({ name: 'db', labels: { 'outpost.monitor': 'perhaps' } }).monitored).toBe(
      true,
    );
  });

  it('reads label flags leniently and ignores nonsense', () => {
    expect(
      ['true', 'TRUE', 'yes', '1', ' false ', 'No', '0', 'maybe', undefined].map(labelFlag),
    ).toEqual([true, true, true, true, false, false, false, undefined, undefined]);
  });
});
