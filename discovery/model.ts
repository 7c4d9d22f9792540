import { createHash } from 'node:crypto';
import { agentDevice, hostDevice, type AgentInfo, type HostInfo } from './device.js';
import type { DiscoveryConfig, DiscoveryContext } from './entity.js';
import { agentEntities } from './entities/agent.js';
import { hostEntities } from './entities/host.js';
import type { EntityFamily } from './family.js';

/** One host: its device, and the retained topics cleared with it. */
export interface HostModel extends HostInfo {
  /** Other retained topics of the host (its maintenance state), cleared with its device. */
  readonly alsoOwns?: readonly string[];
}

/**
 * Everything discovery describes: the agent, its hosts, and each capability's entity
 * family (in the order their entities join a device).
 */
export interface DiscoveryModel {
  readonly agent: AgentInfo;
  readonly hosts: readonly HostModel[];
  readonly families: readonly EntityFamily[];
  /** Event types the capabilities raise: the agent's Alerts entity lists each of them. */
  readonly alerts?: readonly string[];
}

/** Every discovery config the model implies, in a stable order. */
export function desiredConfigs(ctx: DiscoveryContext, model: DiscoveryModel): DiscoveryConfig[] {
  return [...desiredDevices(ctx, model)].flat();
}

/**
 * The same configs, one device at a time (the agent's first, then each host's), built as
 * they are read: a caller walking 5,000 containers holds one host's configs, not all.
 */
export function* desiredDevices(
  ctx: DiscoveryContext,
  model: DiscoveryModel,
): Generator<DiscoveryConfig[]> {
  const agent = agentDevice(ctx.root, model.agent);
  const own = agentEntities(ctx, agent, model.alerts);
  for (const f of model.families) if (f.agent) own.push(...f.agent(ctx, agent));
  yield own;

  for (const h of model.hosts) {
    const device = hostDevice(ctx.root, model.agent, h);
    // A fixed order: the host itself, then what families say about it as a whole, then
    // their subjects (a family's place in the list must not move maintenance below them).
    const out = hostEntities(ctx, device, agent, h.id, h.alsoOwns ?? []);
    for (const f of model.families) if (f.hostWide) out.push(...f.hostWide(ctx, device, h.id));
    for (const f of model.families) if (f.host) out.push(...f.host(ctx, device, h.id));
    yield out;
  }
}

/**
 * A digest of everything desiredConfigs reads from a model: equal digests, equal configs.
 * Taking it costs a small fraction of building the configs (5,000 containers: ~25,000
 * configs), so an unchanged model can skip the build.
 */
export function modelFingerprint(model: DiscoveryModel): string {
  const families = model.families.map((f) => [f.name, f.key]);
  const { agent, hosts, alerts } = model;
  return createHash('sha256')
    .update(JSON.stringify({ agent, hosts, alerts, families }))
    .digest('base64');
}
