import { topics } from '../../src/core/topics.js';
import { buildEntity, field, fieldTemplate, onOffTemplate } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext, EntitySpec } from '../entity.js';

/** A container as discovery needs it. The engine's container ID is deliberately absent. */
export interface ContainerDescription {
  readonly host: string;
  /** Engine name (a leading `/` from the engine API is ignored). */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly displayName?: string;
}

const PROJECT = 'com.docker.compose.project';
const SERVICE = 'com.docker.compose.service';
const NUMBER = 'com.docker.compose.container-number';

/**
 * The stable key of a container: compose project + service (+ replica number above 1)
 * when labelled, else the name. Re-created containers keep their key, so their entities
 * keep their unique_ids. Collectors publish state at `topics.container(root, host, key)`.
 */
export function containerKey(c: ContainerDescription): string {
  const labels = c.labels ?? {};
  const project = labels[PROJECT];
  const service = labels[SERVICE];
  if (project && service) {
    const n = labels[NUMBER];
    return n && n !== '1' ? `${project}-${service}-${n}` : `${project}-${service}`;
  }
  return c.name.replace(/^\/+/, '');
}

/** Fields of the container state JSON these entities read. */
export const CONTAINER_FIELDS = {
  state: 'state',
  health: 'health',
  restartCount: 'restart_count',
  startedAt: 'started_at',
} as const;

/** Running, state, health, restarts, started-at and a restart button for one container. */
export function containerEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  c: ContainerDescription,
): DiscoveryConfig[] {
  const key = containerKey(c);
  const name = c.name.replace(/^\/+/, '');
  const label = c.displayName ?? c.labels?.[SERVICE] ?? name;
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
      kind: 'state_text',
      key: 'state',
      name: `${label} state`,
      valueTemplate: fieldTemplate(CONTAINER_FIELDS.state),
    },
    {
      ...base,
      kind: 'health_text',
      key: 'health',
      name: `${label} health`,
      valueTemplate: fieldTemplate(CONTAINER_FIELDS.health),
    },
    {
      ...base,
      kind: 'count',
      key: 'restart_count',
      name: `${label} restarts`,
      valueTemplate: fieldTemplate(CONTAINER_FIELDS.restartCount),
      entityCategory: 'diagnostic',
      icon: 'mdi:restart',
    },
    {
      ...base,
      kind: 'timestamp',
      key: 'started_at',
      name: `${label} started`,
      valueTemplate: fieldTemplate(CONTAINER_FIELDS.startedAt),
      entityCategory: 'diagnostic',
    },
    {
      kind: 'button_restart',
      domain: 'container',
      subject: key,
      key: 'restart',
      name: `${label} restart`,
      commandTopic: topics.command(ctx.root, 'restart_container'),
      // The engine acts on names, and policy targets are `<host>/<name>` (DESIGN.md).
      options: { payload_press: JSON.stringify({ target: `${c.host}/${name}` }) },
    },
  ];
  return specs.map((s) => buildEntity(ctx, hostDevice, s));
}
