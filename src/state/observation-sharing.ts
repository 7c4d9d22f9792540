import type { ContainerObservation } from '../collectors/containers/types.js';

/**
 * `next`, with the strings and labels it has in common with `prev` taken from `prev`.
 * Every poll parses fresh copies, while the discovery model, the alert tables and the
 * remediation state keep referring to the ones they were first handed: without this,
 * each container's name, labels, image and timestamps would be held twice or more.
 */
export function sharing(
  prev: ContainerObservation,
  next: ContainerObservation,
): ContainerObservation {
  // The collector hands on the very object it gave last time when its record is unchanged.
  if (prev === next) return prev;
  return {
    ...next,
    key: prev.key,
    id: pick(prev.id, next.id),
    name: pick(prev.name, next.name),
    image: pick(prev.image, next.image),
    startedAt: pick(prev.startedAt, next.startedAt),
    finishedAt: pick(prev.finishedAt, next.finishedAt),
    error: pick(prev.error, next.error),
    labels: sameLabels(prev.labels, next.labels) ? prev.labels : next.labels,
  };
}

function pick<T>(prev: T, next: T): T {
  return prev === next ? prev : next;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}
