import { OFFLINE, ONLINE, topics, type TopicRoot } from '../src/core/topics.js';
import { slugify } from '../src/core/slug.js';
import { agentScope, hostScope, serviceScope } from './ids.js';
import type { AvailabilityEntry, DevicePayload, DeviceRef } from './entity.js';

/** What the agent device shows about the running agent. */
export interface AgentInfo {
  /** Node id from config (`node.id`); the only input to identifiers. */
  readonly node: string;
  /** Display name (`node.name`). */
  readonly name: string;
  readonly swVersion: string;
  readonly manufacturer?: string;
  readonly configurationUrl?: string;
}

/** A host the agent watches. `remote` hosts add their own availability topic. */
export interface HostInfo {
  readonly id: string;
  readonly name?: string;
  readonly remote: boolean;
}

const MODEL = 'outpost';
const MANUFACTURER = 'outpost';

function agentAvailability(root: TopicRoot): AvailabilityEntry {
  return {
    topic: topics.availability(root),
    payload_available: ONLINE,
    payload_not_available: OFFLINE,
  };
}

/** The device for the agent itself: identifiers `outpost_<node>`. */
export function agentDevice(root: TopicRoot, agent: AgentInfo): DeviceRef {
  const id = agentScope(agent.node);
  const payload: DevicePayload = {
    identifiers: [id],
    name: agent.name,
    model: MODEL,
    manufacturer: agent.manufacturer ?? MANUFACTURER,
    sw_version: agent.swVersion,
  };
  if (agent.configurationUrl) payload.configuration_url = agent.configurationUrl;
  return { payload, scope: id, objectId: 'agent', availability: [agentAvailability(root)] };
}

/**
 * A device per host (`outpost_<node>_<host>`), reached through the agent device
 * (`via_device`). Entities of a remote host are available only while both the agent and
 * the host are (`availability_mode: all`, HA_DOCS.availability).
 */
export function hostDevice(root: TopicRoot, agent: AgentInfo, host: HostInfo): DeviceRef {
  const id = hostScope(agent.node, host.id);
  const availability = [agentAvailability(root)];
  if (host.remote) {
    availability.push({
      topic: topics.hostAvailability(root, host.id),
      payload_available: ONLINE,
      payload_not_available: OFFLINE,
    });
  }
  const payload: DevicePayload = {
    identifiers: [id],
    name: host.name ?? host.id,
    model: `${MODEL} host`,
    manufacturer: agent.manufacturer ?? MANUFACTURER,
    sw_version: agent.swVersion,
    via_device: agentScope(agent.node),
  };
  return { payload, scope: id, objectId: `host_${slugify(host.id)}`, availability };
}

/**
 * A service the agent watches and shows as a device of its own (Home Assistant,
 * Zigbee2MQTT): declared by a capability's family (EntityFamily.services).
 */
export interface ServiceInfo {
  /** Stable id inside the node (`home_assistant`): the only input to identifiers. */
  readonly id: string;
  /** Display name; entity names on it must not repeat it (HA strips and repairs them). */
  readonly name: string;
  readonly manufacturer?: string;
  readonly model?: string;
  /** The service's own version where it says (Home Assistant's, Zigbee2MQTT's). */
  readonly swVersion?: string;
  readonly configurationUrl?: string;
  /**
   * Whether the service itself is reachable, read from a retained topic: its entities are
   * available only while both the agent and the service are (`availability_mode: all`).
   */
  readonly reachability?: AvailabilityEntry;
}

/**
 * A service's device (`outpost_<node>_service_<id>`), reached through the agent device
 * (`via_device`). Its entities' unique ids keep the agent's scope: they were on the agent's
 * device before, and a changed unique_id would be a new entity in Home Assistant.
 */
export function serviceDevice(root: TopicRoot, agent: AgentInfo, service: ServiceInfo): DeviceRef {
  const id = serviceScope(agent.node, service.id);
  const payload: DevicePayload = {
    identifiers: [id],
    name: service.name,
    via_device: agentScope(agent.node),
  };
  if (service.model !== undefined) payload.model = service.model;
  if (service.manufacturer !== undefined) payload.manufacturer = service.manufacturer;
  if (service.swVersion !== undefined) payload.sw_version = service.swVersion;
  if (service.configurationUrl !== undefined) payload.configuration_url = service.configurationUrl;
  const availability = [agentAvailability(root)];
  if (service.reachability) availability.push(service.reachability);
  return {
    payload,
    scope: agentScope(agent.node),
    objectId: `service_${slugify(service.id)}`,
    availability,
  };
}
