import type { ServiceInfo } from './device.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext } from './entity.js';

/**
 * A device of its own for a service the agent watches (Home Assistant, Zigbee2MQTT), with
 * the family's entities on it. It joins the model after the agent's device (its via_device)
 * and goes, configs and all, when the family no longer declares it.
 */
export interface ServiceEntities {
  readonly service: ServiceInfo;
  /** Everything its configs depend on besides `service`: equal keys, equal configs. */
  readonly key: unknown;
  /** Its configs on its device; `agentDevice` lends its availability to a link entity. */
  entities(ctx: DiscoveryContext, device: DeviceRef, agentDevice: DeviceRef): DiscoveryConfig[];
}

/**
 * One capability's entities in the discovery model (docs/architecture.md "Capability modules"):
 * a capability describes what it adds to the agent's device and to each host's device, and
 * discovery knows nothing else about it. A family is a snapshot, taken once per discovery
 * round: `key` is everything its configs depend on, so an unchanged round can be skipped by
 * comparing keys instead of building every config.
 */
export interface EntityFamily {
  /** Names the family in the model's fingerprint (`containers`, `watchdog`, …). */
  readonly name: string;
  /** Everything its configs depend on, as JSON-able data: equal keys, equal configs. */
  readonly key: unknown;
  /**
   * Everything its configs on the agent's device depend on; `key` when absent. Lets a
   * round skip the agent's device when only what the family says about hosts changed.
   */
  readonly agentKey?: unknown;
  /**
   * Everything its configs on one host's device depend on; `key` when absent (then any
   * change in the family rebuilds every host). A round compares these per device, so a
   * change on one host rebuilds that host's configs alone.
   */
  hostKey?(host: string): unknown;
  /** Its configs on the agent's device. */
  agent?(ctx: DiscoveryContext, agentDevice: DeviceRef): DiscoveryConfig[];
  /**
   * Its configs about a host as a whole (totals, controls such as maintenance). They lead
   * the host's device, after Reachable and before any family's `host` configs, so a long
   * list of containers never pushes them down.
   */
  hostWide?(ctx: DiscoveryContext, hostDevice: DeviceRef, host: string): DiscoveryConfig[];
  /** Its configs per subject on a host's device (each container, disk, job). */
  host?(ctx: DiscoveryContext, hostDevice: DeviceRef, host: string): DiscoveryConfig[];
  /** Services it shows as devices of their own, after the hosts' devices. */
  readonly services?: readonly ServiceEntities[];
}
