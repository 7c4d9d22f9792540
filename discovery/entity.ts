import type { TopicRoot } from '../src/core/topics.js';
import type { Platform } from './ha-vocabulary.js';
import type { EntityCategory, ValueKind } from './metadata.js';

/** A discovery payload: full HA keys only, never abbreviations. */
export type DiscoveryPayload = Record<string, unknown>;

/** `origin` on every config (HA_DOCS.discovery, "origin"): who published it. */
export interface Origin {
  name: string;
  sw_version?: string;
  support_url?: string;
}

/** The `device` mapping (full keys). */
export interface DevicePayload {
  identifiers: string[];
  name: string;
  model?: string;
  manufacturer?: string;
  sw_version?: string;
  configuration_url?: string;
  via_device?: string;
}

export interface AvailabilityEntry {
  topic: string;
  payload_available?: string;
  payload_not_available?: string;
  /** Renders the payload compared with the two above, from a JSON state topic. */
  value_template?: string;
}

/** A device as entity builders need it: its payload, its id scope and its availability. */
export interface DeviceRef {
  readonly payload: DevicePayload;
  /**
   * Prefix of every unique_id on this device (`outpost_<node>` or `outpost_<node>_<host>`;
   * a service device keeps the agent's, so its entities kept their ids when they moved).
   */
  readonly scope: string;
  /** Object id of this device's device-based discovery topic. */
  readonly objectId: string;
  readonly availability: readonly AvailabilityEntry[];
}

/** What every builder needs to know about where it publishes. */
export interface DiscoveryContext {
  /** HA discovery prefix, `homeassistant` by default. */
  readonly prefix: string;
  /** Base topic and node id, for the topic builders in src/core/topics.ts. */
  readonly root: TopicRoot;
  readonly origin: Origin;
}

/** One entity's discovery config, ready to publish: retained, QoS 1. */
export interface DiscoveryConfig {
  readonly topic: string;
  readonly payload: DiscoveryPayload;
  readonly retain: true;
  readonly qos: 1;
  readonly platform: Platform;
  readonly uniqueId: string;
  /** The device-based discovery topic this entity joins when that mode is on. */
  readonly deviceTopic: string;
  /** Key of this entity under the device message's `components`. */
  readonly componentKey: string;
  /** Retained state topics this entity owns, cleared when it is removed. */
  readonly stateTopics: readonly string[];
  /** The device identifier this entity belongs to. */
  readonly deviceId: string;
  /**
   * True when the entity exists because something was observed (a container, a disk),
   * false when config alone defines it (a host, a backup job, a check). Only observed
   * entities wait for repeated absence before removal: config is never partial.
   */
  readonly observed: boolean;
}

/** The description one entity builder call takes. */
export interface EntitySpec {
  readonly kind: ValueKind;
  /** Domain of the subject: `container`, `disk`, `backup`, `watchdog`, `host`, ... */
  readonly domain: string;
  /** Stable key of the subject inside its domain (container key, mount, job id). */
  readonly subject?: string;
  /** What this entity shows about the subject: `running`, `used_pct`, ... */
  readonly key: string;
  /** Display name, shown after the device name (has_entity_name is always on for MQTT). */
  readonly name: string;
  readonly stateTopic?: string;
  readonly valueTemplate?: string;
  readonly jsonAttributesTopic?: string;
  readonly jsonAttributesTemplate?: string;
  readonly commandTopic?: string;
  /** Platform options beyond the table: payload_on, options, event_types, payload_press ... */
  readonly options?: DiscoveryPayload;
  readonly entityCategory?: EntityCategory | null;
  readonly icon?: string;
  /** `false` for an entity whose state is itself an availability topic. */
  readonly withAvailability?: boolean;
  /**
   * Its availability in place of the device's: a service's own link stays available (and
   * says "disconnected") while the service is unreachable and its other entities are not.
   */
  readonly availability?: readonly AvailabilityEntry[];
  /** Retained state topics owned by this entity (cleared on removal). */
  readonly ownedStateTopics?: readonly string[];
}
