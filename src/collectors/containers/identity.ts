/**
 * The stable identity of a container. Compose re-creates containers with new ids and
 * (with older compose) new names, but the project and service labels stay, so entities,
 * topics and hysteresis state survive `docker compose up -d`.
 *
 * discovery/entities/containers.ts computes the same key; it should import this one.
 */

export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const COMPOSE_NUMBER = 'com.docker.compose.container-number';
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';

export interface ContainerIdentity {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** Compose `project-service` (`-N` for replica N > 1) when labelled, else the name. */
export function containerKey(c: ContainerIdentity): string {
  const name = c.name.replace(/^\/+/, '');
  const labels = c.labels ?? {};
  const project = labels[COMPOSE_PROJECT];
  const service = labels[COMPOSE_SERVICE];
  // `docker compose run` containers carry the service's labels too; keyed by the service
  // they would overwrite the service's own container, so they keep their unique name.
  if (!project || !service || labels[COMPOSE_ONEOFF] === 'True') return name;
  const n = labels[COMPOSE_NUMBER];
  return n && n !== '1' ? `${project}-${service}-${n}` : `${project}-${service}`;
}

/** The names a config pattern may match: the name, the compose service and the key. */
export function matchableNames(c: ContainerIdentity): string[] {
  const name = c.name.replace(/^\/+/, '');
  const service = c.labels?.[COMPOSE_SERVICE];
  const out = new Set([name, containerKey(c)]);
  if (service) out.add(service);
  return [...out];
}
