import { createHash } from 'node:crypto';
import { COMPOSE_SERVICE, containerKey } from '../../src/collectors/containers/identity.js';
import { CONTAINER_HEALTH, CONTAINER_RUN_STATES } from '../../src/collectors/containers/types.js';
import { topics } from '../../src/core/topics.js';
import {
  buildEntity,
  enumTemplate,
  field,
  fieldTemplate,
  onOffTemplate,
} from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';
import type { EntityFamily } from '../family.js';
import { hostContainerEntities } from './host.js';

/** A container as discovery needs it. The engine's container ID is deliberately absent. */
export interface ContainerDescription {
  readonly host: string;
  /** Engine name (a leading `/` from the engine API is ignored). */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly displayName?: string;
  /** The restart button: only offered where remediation can act on it (default true). */
  readonly withRestart?: boolean;
}

/**
 * The stable key: the collectors' own (compose project + service, else the name), so
 * entities, state topics and tracking agree. Collectors publish state at
 * `topics.container(root, host, key)`.
 */
export { containerKey };

/** Fields of the container state JSON these entities read. */
export const CONTAINER_FIELDS = {
  state: 'state',
  health: 'health',
  restartCount: 'restart_count',
  startedAt: 'started_at',
} as const;

/**
 * What a word outside the lists reads as: the collectors' own rule (normalize.ts), applied
 * again in the template for a state that did not come from them (an older agent's retained
 * message), so Home Assistant is never handed a value it would drop.
 */
const UNKNOWN_STATE = 'dead';
const UNKNOWN_HEALTH = 'none';

/**
 * Restarts and started-at are created disabled (HA_DOCS `enabled_by_default`): a
 * dashboard reads a container by running, state and health, and the incidents already say
 * when a container restarts or flaps; both values also stay in the running entity's
 * attributes. With 100 containers a host, two fewer enabled entities each spare Home
 * Assistant 200 state objects and their recorder history; a user enables one in a click.
 * (The image has no entity of its own: it is an attribute too.)
 */
const SECONDARY = { enabled_by_default: false } as const;

/** Running, state, health, restarts, started-at and a restart button for one container. */
export function containerEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  c: ContainerDescription,
): DiscoveryConfig[] {
  const key = containerKey(c);
  const name = c.name.replace(/^\/+/, '');
  const label = c.displayName ?? c.labels?.[COMPOSE_SERVICE] ?? name;
  const stateTopic = topics.container(ctx.root, c.host, key);
  const base = { domain: 'container', subject: key, stateTopic, ownedStateTopics: [stateTopic] };
  const specs: EntitySpec[] = [
    {
      ...base,
      kind: 'running',
      key: 'running',
      name: `${label} running`,
      valueTemplate: onOffTemplate(`${field(CONTAINER_FIELDS.state)} == 'running'`),
      jsonAttributesTopic: stateTopic,
    },
    {
      ...base,
      kind: 'run_state',
      key: 'state',
      name: `${label} state`,
      valueTemplate: enumTemplate(CONTAINER_FIELDS.state, CONTAINER_RUN_STATES, UNKNOWN_STATE),
      options: { options: [...CONTAINER_RUN_STATES] },
    },
    {
      ...base,
      kind: 'health',
      key: 'health',
      name: `${label} health`,
      valueTemplate: enumTemplate(CONTAINER_FIELDS.health, CONTAINER_HEALTH, UNKNOWN_HEALTH),
      options: { options: [...CONTAINER_HEALTH] },
    },
    {
      ...base,
      kind: 'count',
      key: 'restart_count',
      name: `${label} restarts`,
      valueTemplate: fieldTemplate(CONTAINER_FIELDS.restartCount),
      entityCategory: 'diagnostic',
      icon: 'mdi:restart',
      options: SECONDARY,
    },
    {
      ...base,
      kind: 'timestamp',
      key: 'started_at',
      name: `${label} started`,
      valueTemplate: fieldTemplate(CONTAINER_FIELDS.startedAt),
      entityCategory: 'diagnostic',
      options: SECONDARY,
    },
  ];
  if (c.withRestart !== false) {
    specs.push({
      kind: 'button_restart',
      domain: 'container',
      subject: key,
      key: 'restart',
      name: `${label} restart`,
      commandTopic: topics.command(ctx.root, 'restart_container'),
      // The engine acts on names, and policy targets are `<host>/<name>` (DESIGN.md).
      options: { payload_press: JSON.stringify({ target: `${c.host}/${name}` }) },
    });
  }
  return specs.map((s) => buildEntity(ctx, hostDevice, s));
}

/** A watched host and the containers discovery describes on it. */
export interface WatchedHost {
  readonly id: string;
  readonly containers: readonly Omit<ContainerDescription, 'host'>[];
}

/**
 * The containers family: on each watched host, its totals and critical-down sensor and
 * every container's entities. A container counts in the key only by what its entities
 * show (its key, name, display label and restart button), not by its other labels.
 */
export function containersFamily(hosts: readonly WatchedHost[]): EntityFamily {
  const byHost = new Map(hosts.map((h) => [h.id, h.containers]));
  const hostKey = (host: string) => {
    const containers = byHost.get(host);
    return containers === undefined ? null : shownKey(containers);
  };
  return {
    name: 'containers',
    // Taken only where a caller needs the whole family's: rounds compare hostKey per host.
    get key() {
      return hosts.map((h) => [h.id, hostKey(h.id)]);
    },
    hostKey,
    hostWide: (ctx, device, host) =>
      byHost.has(host) ? hostContainerEntities(ctx, device, host) : [],
    host: (ctx, device, host) =>
      (byHost.get(host) ?? []).flatMap((c) => containerEntities(ctx, device, { ...c, host })),
  };
}

/**
 * A digest of what a host's containers show, kept per description array: a caller that
 * hands the same array again (nothing on the host changed; ContainerMonitoring keeps it)
 * gets its key without a second pass over every container (issue 15).
 */
const shownKeys = new WeakMap<readonly object[], string>();
function shownKey(containers: readonly Omit<ContainerDescription, 'host'>[]): string {
  let key = shownKeys.get(containers);
  if (key === undefined) {
    const shown = JSON.stringify(containers.map(shownFields));
    key = createHash('sha256').update(shown).digest('base64');
    shownKeys.set(containers, key);
  }
  return key;
}

/** What a container's entities show of it: its key, name, display label, restart button. */
function shownFields(c: Omit<ContainerDescription, 'host'>): unknown[] {
  return [
    containerKey(c),
    c.name,
    c.displayName ?? c.labels?.[COMPOSE_SERVICE] ?? null,
    c.withRestart ?? null,
  ];
}
