import { createHash } from 'node:crypto';
import { agentDevice, hostDevice, serviceDevice, type AgentInfo, type HostInfo } from './device.js';
import { deviceIdOf } from './entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext } from './entity.js';
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
  for (const device of modelDevices(ctx, model)) yield device.build();
}

/**
 * One device of the model: its id (the configs' deviceId), a fingerprint of everything its
 * configs depend on (equal fingerprints, equal configs), and how to build them, which can
 * be called again for the same configs.
 */
export interface ModelDevice {
  readonly id: string;
  readonly fingerprint: string;
  build(): DiscoveryConfig[];
}

/**
 * The model's devices, the agent's first, then each host's, then each service's. Taking a device costs its
 * fingerprint (the inputs its families declare for it), never its configs: a round over
 * 50 hosts where one changed builds that one.
 */
export function* modelDevices(
  ctx: DiscoveryContext,
  model: DiscoveryModel,
): Generator<ModelDevice> {
  const agent = agentDevice(ctx.root, model.agent);
  const forAgent = model.families.filter((f) => f.agent !== undefined);
  yield {
    id: deviceIdOf(agent),
    fingerprint: digest([
      ctx,
      model.agent,
      model.alerts,
      forAgent.map((f) => [f.name, f.agentKey !== undefined ? f.agentKey : f.key]),
    ]),
    build: () => agentConfigs(ctx, model, agent),
  };
  const forHosts = model.families.filter((f) => f.hostWide !== undefined || f.host !== undefined);
  for (const h of model.hosts) {
    const device = hostDevice(ctx.root, model.agent, h);
    yield {
      id: deviceIdOf(device),
      fingerprint: digest([
        ctx,
        model.agent,
        h,
        forHosts.map((f) => [f.name, f.hostKey ? f.hostKey(h.id) : f.key]),
      ]),
      build: () => hostConfigs(ctx, model, agent, device, h),
    };
  }
  // After the agent's device, which they name as via_device (HA resolves it when a device
  // is created, so it must exist first).
  for (const f of model.families) {
    for (const s of f.services ?? []) {
      const device = serviceDevice(ctx.root, model.agent, s.service);
      yield {
        id: deviceIdOf(device),
        fingerprint: digest([ctx, model.agent, f.name, s.service, s.key]),
        build: () => s.entities(ctx, device, agent),
      };
    }
  }
}

function agentConfigs(
  ctx: DiscoveryContext,
  model: DiscoveryModel,
  agent: DeviceRef,
): DiscoveryConfig[] {
  const own = agentEntities(ctx, agent, model.alerts);
  for (const f of model.families) if (f.agent) own.push(...f.agent(ctx, agent));
  return own;
}

function hostConfigs(
  ctx: DiscoveryContext,
  model: DiscoveryModel,
  agent: DeviceRef,
  device: DeviceRef,
  h: HostModel,
): DiscoveryConfig[] {
  // A fixed order: the host itself, then what families say about it as a whole, then
  // their subjects (a family's place in the list must not move maintenance below them).
  const out = hostEntities(ctx, device, agent, h.id, h.alsoOwns ?? []);
  for (const f of model.families) if (f.hostWide) out.push(...f.hostWide(ctx, device, h.id));
  for (const f of model.families) if (f.host) out.push(...f.host(ctx, device, h.id));
  return out;
}

function digest(inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('base64');
}

/**
 * A digest of everything desiredConfigs reads from a model: equal digests, equal configs.
 * Taking it costs a small fraction of building the configs (5,000 containers: ~25,000
 * configs), so an unchanged model can skip the build.
 */
export function modelFingerprint(model: DiscoveryModel): string {
  const families = model.families.map((f) => [
    f.name,
    f.key,
    (f.services ?? []).map((s) => [s.service, s.key]),
  ]);
  const { agent, hosts, alerts } = model;
  return digest({ agent, hosts, alerts, families });
}
