/**
 * What the container collectors produce. Collectors know nothing about MQTT or Home
 * Assistant (DESIGN.md "Data flow"): they emit these plain values through a callback, and
 * the state engine (src/state/container-tracker.ts) decides what changed.
 */

/**
 * A container's run state, the same words for docker and podman (normalize.ts maps every
 * other word onto these). Listed, because Home Assistant's state sensor offers exactly them.
 */
export const CONTAINER_RUN_STATES = [
  'created',
  'running',
  'paused',
  'restarting',
  'exited',
  'dead',
] as const;
export type ContainerRunState = (typeof CONTAINER_RUN_STATES)[number];

/** A container's healthcheck result; `none` when it has no healthcheck. */
export const CONTAINER_HEALTH = ['healthy', 'unhealthy', 'starting', 'none'] as const;
export type ContainerHealth = (typeof CONTAINER_HEALTH)[number];

/** One container as the engine reported it at `observedAt`. */
export interface ContainerObservation {
  /** The config host id (`hosts[].id`). */
  readonly host: string;
  /**
   * The stable identity: compose `project-service` (plus `-N` for replica N > 1) when
   * labelled, else the name. A re-created container keeps its key (see identity.ts).
   */
  readonly key: string;
  /** The engine's container id (changes when the container is re-created). */
  readonly id: string;
  /** The name without the engine API's leading `/`. */
  readonly name: string;
  /** The image reference it was started from, e.g. `eclipse-mosquitto:2`. */
  readonly image: string;
  readonly state: ContainerRunState;
  readonly health: ContainerHealth;
  /** Last exit code; null while it has never exited. */
  readonly exitCode: number | null;
  readonly restartCount: number;
  /** ISO 8601; null when never started. */
  readonly startedAt: string | null;
  /** ISO 8601; null when it has never stopped. */
  readonly finishedAt: string | null;
  /** Milliseconds since start at `observedAt` while running, else null. */
  readonly uptimeMs: number | null;
  readonly oomKilled: boolean;
  /** The engine's own error text for the last start, if any. */
  readonly error: string | null;
  /** Only the labels the agent reads: compose's identity ones and `outpost.*`. */
  readonly labels: Readonly<Record<string, string>>;
  /** After config globs and the `outpost.critical` label. */
  readonly critical: boolean;
  /** Clock time (ms) at which the engine answered. */
  readonly observedAt: number;
}

/** Can the agent see this host's containers? */
export type HostReach = 'ok' | 'degraded' | 'unreachable';

/** The collector outputs, one union so a single callback receives them in order. */
export type ContainerCollectorOutput =
  ContainerSnapshotOutput | ContainerChangeOutput | ContainerRemovedOutput | HostStatusOutput;

/** Every monitored container of a host; one missing here has disappeared. */
export interface ContainerSnapshotOutput {
  readonly kind: 'snapshot';
  readonly host: string;
  readonly containers: readonly ContainerObservation[];
  readonly at: number;
}

/** One container changed (from the engine's event stream). */
export interface ContainerChangeOutput {
  readonly kind: 'container';
  readonly host: string;
  readonly container: ContainerObservation;
  /** The engine event that caused it: action (`die`, `health_status`, …) and its time. */
  readonly cause: EngineEventCause;
}

/** A container was removed (destroy / remove), or stopped being monitored. */
export interface ContainerRemovedOutput {
  readonly kind: 'removed';
  readonly host: string;
  readonly id: string;
  readonly cause: EngineEventCause;
}

export interface EngineEventCause {
  readonly action: string;
  /** The engine's event time in nanoseconds since the epoch (for latency figures). */
  readonly timeNano: number;
  /** Clock time (ms) at which the agent read the event off the stream. */
  readonly receivedAt: number;
}

/** The host's reachability changed, or its engine said something the agent cannot use. */
export interface HostStatusOutput {
  readonly kind: 'host';
  readonly host: string;
  readonly status: HostReach;
  /** Why it is degraded or unreachable; absent when ok. */
  readonly message?: string;
  /** e.g. `docker 20.10.24`, `podman 4.3.1`, when known. */
  readonly engine?: string;
  readonly at: number;
}

/** Where collectors send their outputs. A throwing sink is logged, never fatal. */
export type ContainerSink = (output: ContainerCollectorOutput) => void;
