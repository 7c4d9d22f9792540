import { describe, expect, it } from 'vitest';
import { desiredConfigs } from '../../../discovery/model.js';
import type { DiscoveryConfig } from '../../../discovery/entity.js';
import {
  EMPTY_PRUNE_STATE,
  planDiscovery,
  registryEntryFor,
  type PlanInput,
  type PruneState,
} from '../../../discovery/planner.js';
import type { RegistryEntry } from '../../../discovery/registry.js';
import { ctx, fullModel, fullSite, modelOf } from './fixtures.js';

const all = desiredConfigs(ctx, fullModel);
const radarr = all.filter((c) => c.uniqueId.includes('_container_radarr_'));
const withoutRadarr = all.filter((c) => !radarr.includes(c));
const RADARR_STATE = 'outpost/chelsty-infra/hosts/nas/containers/radarr';

function published(configs: readonly DiscoveryConfig[]): Array<[string, RegistryEntry]> {
  return configs.map((c) => [c.topic, registryEntryFor(c, false)]);
}

/** Runs successive observations against a registry that applies each plan. */
function run(
  observations: Array<{ desired: DiscoveryConfig[]; ok: boolean }>,
  pruneAfter?: number,
) {
  let registry = new Map(published(all));
  let prune: PruneState = EMPTY_PRUNE_STATE;
  return observations.map(({ desired, ok }) => {
    const input: PlanInput = {
      desired,
      published: [...registry],
      prune,
      observationOk: ok,
      pruneAfter,
    };
    const plan = planDiscovery(input);
    prune = plan.prune;
    for (const c of plan.publish) registry.set(c.topic, registryEntryFor(c, false));
    for (const r of plan.remove) registry.delete(r.topic);
    registry = new Map(registry);
    return plan;
  });
}

describe('planDiscovery', () => {
  it('publishes everything the first time and nothing when unchanged', () => {
    const first = planDiscovery({
      desired: all,
      published: [],
      prune: EMPTY_PRUNE_STATE,
      observationOk: true,
    });
    expect(first.publish).toHaveLength(all.length);
    const again = planDiscovery({
      desired: all,
      published: published(all),
      prune: EMPTY_PRUNE_STATE,
      observationOk: true,
    });
    expect(again.publish).toEqual([]);
    expect(again.remove).toEqual([]);
  });

  it('publishes only changed payloads', () => {
    const changed = all.map((c) =>
      c === radarr[0] ? { ...c, payload: { ...c.payload, name: 'Radarr (4K) running' } } : c,
    );
    const plan = planDiscovery({
      desired: changed,
      published: published(all),
      prune: EMPTY_PRUNE_STATE,
      observationOk: true,
    });
    expect(plan.publish.map((c) => c.topic)).toEqual([radarr[0]!.topic]);
  });

  it('never prunes after failed observations', () => {
    const plans = run(Array.from({ length: 6 }, () => ({ desired: withoutRadarr, ok: false })));
    for (const p of plans) {
      expect(p.remove).toEqual([]);
      expect(p.clearState).toEqual([]);
      expect(p.held).toHaveLength(radarr.length);
    }
    expect(plans.at(-1)!.prune.absences.get(radarr[0]!.topic)).toBe(0);
  });

  it('prunes after 3 consecutive successful absences, with the state topic', () => {
    const plans = run([
      { desired: withoutRadarr, ok: true },
      { desired: withoutRadarr, ok: false },
      { desired: withoutRadarr, ok: true },
      { desired: withoutRadarr, ok: true },
    ]);
    expect(plans.slice(0, 3).every((p) => p.remove.length === 0)).toBe(true);
    expect(plans[2]!.prune.absences.get(radarr[0]!.topic)).toBe(2);
    expect(plans[3]!.remove.map((r) => r.topic).sort()).toEqual(radarr.map((c) => c.topic).sort());
    expect(plans[3]!.clearState).toEqual([RADARR_STATE]);
    expect(plans[3]!.prune.absences.size).toBe(0);
  });

  it('resets the count when the entity comes back', () => {
    const plans = run([
      { desired: withoutRadarr, ok: true },
      { desired: withoutRadarr, ok: true },
      { desired: all, ok: true },
      { desired: withoutRadarr, ok: true },
      { desired: withoutRadarr, ok: true },
    ]);
    expect(plans[2]!.publish).toEqual([]);
    expect(plans.every((p) => p.remove.length === 0)).toBe(true);
  });

  it('honours a custom prune threshold', () => {
    const plans = run([{ desired: withoutRadarr, ok: true }], 1);
    expect(plans[0]!.remove).toHaveLength(radarr.length);
  });

  it('keeps state topics still used by a remaining entity', () => {
    const running = radarr.find((c) => c.uniqueId.endsWith('_running'))!;
    const plans = run([{ desired: [...withoutRadarr, running], ok: true }], 1);
    expect(plans[0]!.remove).toHaveLength(radarr.length - 1);
    expect(plans[0]!.clearState).toEqual([]);
  });

  it('republishes when the discovery mode changes', () => {
    const plan = planDiscovery({
      desired: all,
      published: published(all),
      prune: EMPTY_PRUNE_STATE,
      observationOk: true,
      deviceBased: true,
    });
    expect(plan.publish).toHaveLength(all.length);
  });
});

describe('planDiscovery: config is authoritative', () => {
  const withoutNas = desiredConfigs(
    ctx,
    modelOf({ ...fullSite, hosts: fullSite.hosts.filter((h) => h.id !== 'nas') }),
  );
  const nasTopics = all.filter((c) => !withoutNas.some((d) => d.topic === c.topic));

  it('removes every entity of a host taken out of config at once, even after a failed poll', () => {
    expect(nasTopics.some((c) => c.observed)).toBe(true); // its containers go too
    const [plan] = run([{ desired: withoutNas, ok: false }]);
    expect(plan!.remove.map((r) => r.topic).sort()).toEqual(nasTopics.map((c) => c.topic).sort());
    expect(plan!.held).toEqual([]);
    expect(plan!.clearState).toContain(RADARR_STATE);
  });

  it('removes a config-defined entity (a backup job) at once, but holds an observed one', () => {
    const backup = all.filter((c) => c.uniqueId.includes('_backup_'));
    expect(backup.length).toBeGreaterThan(0);
    const desired = all.filter((c) => !backup.includes(c) && !radarr.includes(c));
    const [plan] = run([{ desired, ok: true }]);
    expect(plan!.remove.map((r) => r.topic).sort()).toEqual(backup.map((c) => c.topic).sort());
    expect(plan!.held.sort()).toEqual(radarr.map((c) => c.topic).sort());
  });
});
