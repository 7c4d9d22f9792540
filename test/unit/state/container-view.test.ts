import { describe, expect, it } from 'vitest';
import type { ContainerObservation } from '../../../src/collectors/containers/types.js';
import {
  containerStatePayload,
  sameContainerState,
  type ContainerView,
} from '../../../src/state/container-view.js';

const base: ContainerObservation = {
  host: 'nas',
  key: 'web',
  id: 'aaaaaaaaaaaa',
  name: 'web',
  image: 'img/web',
  state: 'running',
  health: 'none',
  exitCode: null,
  restartCount: 0,
  startedAt: '2026-11-21T00:00:00Z',
  finishedAt: null,
  uptimeMs: 1000,
  oomKilled: false,
  error: null,
  labels: {},
  critical: true,
  observedAt: 0,
};

/** One change per field of the observation, and the alert, each with a value it never has. */
const CHANGES: [string, Partial<ContainerObservation> | 'alert'][] = [
  ['host', { host: 'other' }],
  ['key', { key: 'other' }],
  ['id', { id: 'bbbbbbbbbbbb' }],
  ['name', { name: 'web-2' }],
  ['image', { image: 'img/web:2' }],
  ['state', { state: 'exited' }],
  ['health', { health: 'unhealthy' }],
  ['exitCode', { exitCode: 1 }],
  ['restartCount', { restartCount: 3 }],
  ['startedAt', { startedAt: '2026-11-22T00:00:00Z' }],
  ['finishedAt', { finishedAt: '2026-11-22T00:00:00Z' }],
  ['uptimeMs', { uptimeMs: 5000 }],
  ['oomKilled', { oomKilled: true }],
  ['error', { error: 'no such image' }],
  ['labels', { labels: { 'outpost.critical': 'false' } }],
  ['critical', { critical: false }],
  ['observedAt', { observedAt: 30_000 }],
  ['alert', 'alert'],
];

describe('sameContainerState', () => {
  const a: ContainerView = { observation: base, alert: 'ok' };

  it.each(CHANGES)('agrees with the published payload when %s changes', (_field, change) => {
    const b: ContainerView =
      change === 'alert'
        ? { observation: { ...base }, alert: 'down' }
        : { observation: { ...base, ...change }, alert: 'ok' };
    const payloadsEqual =
      JSON.stringify(containerStatePayload(a)) === JSON.stringify(containerStatePayload(b));
    expect(sameContainerState(a, b)).toBe(payloadsEqual);
  });

  it('is true for a copy and for the same observation', () => {
    expect(sameContainerState(a, { observation: { ...base }, alert: 'ok' })).toBe(true);
    expect(sameContainerState(a, { observation: base, alert: 'ok' })).toBe(true);
  });
});
