import { describe, expect, it } from 'vitest';
import type { IncidentRef } from '../../../src/core/events.js';
import { Incidents } from '../../../src/state/incidents.js';
import { containerView } from './container-view.js';
import { remediationSession } from './harness.js';

const MIN = 60_000;
const START = Date.parse('2026-01-01T00:00:00Z');

const incidentOf = (data: Record<string, unknown> | undefined) =>
  data?.incident as IncidentRef | undefined;

/**
 * Remediation inside incidents (issue #14): its events carry the incident of their target,
 * and flapping is a warning inside the container's incident, in words a person reads.
 */
describe('remediation and incidents', () => {
  const r = remediationSession('remediation-incidents', START);
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
  };
  const feed = async (state: 'running' | 'exited') => {
    // A compose service: its key (the incident's subject) is not its name (the target).
    r.b!.rem.onContainer(
      'local',
      'demo-web',
      containerView('demo-web-1', state, { key: 'demo-web' }),
    );
    r.clock.advance(0);
    await settle();
  };

  it('flapping opens a warning incident under the container’s subject; settling closes it', async () => {
    const incidents = new Incidents();
    await r.start({ policy: [{ action: 'maintenance', decision: 'allow' }] }, undefined, incidents);
    await feed('running');
    for (let i = 0; i < 5; i++) {
      r.clock.advance(10_000);
      await feed(i % 2 === 0 ? 'exited' : 'running');
    }
    const [flapping] = r.b!.events;
    expect(flapping).toMatchObject({
      type: 'container_flapping',
      subject: 'local/demo-web',
      data: {
        target: 'local/demo-web-1',
        title: 'local/demo-web is flapping',
        message: 'local/demo-web changes state too often: no automatic actions until it settles',
        incident: { status: 'open', alerts: 1 },
      },
    });
    expect(incidents.get('container', 'local/demo-web')).toMatchObject({
      severity: 'warning',
      target: 'local/demo-web-1',
    });
    r.clock.advance(11 * MIN);
    await settle();
    const settled = r.b!.events.at(-1)!;
    expect(settled.type).toBe('container_settled');
    expect(incidentOf(settled.data)).toMatchObject({
      id: incidentOf(flapping!.data)!.id,
      status: 'closed',
    });
    expect(incidents.size).toBe(0);
  });

  it('an action on a target with an open incident carries it, in plain words', async () => {
    const incidents = new Incidents();
    const { incident } = incidents.raise('local/web', 'alert', 'critical', START, {
      kind: 'container',
      target: 'local/web',
    });
    await r.start(
      { policy: [{ action: 'restart_container', target: 'local/web', decision: 'allow' }] },
      undefined,
      incidents,
    );
    await r.send('restart_container', { target: 'local/web', reason: 'slow' });
    expect(r.b!.events.map((e) => [e.type, incidentOf(e.data)?.id])).toEqual([
      ['remediation_started', incident.id],
      ['remediation_completed', incident.id],
    ]);
    expect(r.b!.events[0]!.data).toMatchObject({
      title: 'Restart of local/web started',
      message: expect.stringMatching(/^Restart of local\/web started, asked by .*, because: slow$/),
    });
    expect(r.b!.events[1]!.data).toMatchObject({ title: 'Restart of local/web done' });
  });
});
