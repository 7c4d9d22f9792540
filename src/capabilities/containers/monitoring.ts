import type { ContainerDescription } from '../../discovery/entities/containers.js';
import { createContainerCollectors } from '../collectors/containers/index.js';
import { RemoteContainerCollector } from '../collectors/containers/remote-collector.js';
import type { CommandRunner } from '../hosts/ssh-connection.js';
import type { ContainerCollectorOutput } from '../collectors/containers/types.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { NewEvent } from '../core/events.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { topics, type TopicRoot } from '../core/topics.js';
import { HealthApi } from '../hosts/health-api.js';
import { statePayload, type StatePublisher } from '../mqtt/state-publisher.js';
import { ContainerTracker } from '../state/container-tracker.js';
import {
  type ContainerView,
  containerStatePayload,
  hostAvailability,
  hostStatePayload,
} from '../state/container-view.js';

export interface ContainerMonitoringDeps {
  config: Config;
  root: TopicRoot;
  states: StatePublisher;
  clock: Clock;
  log: Logger;
  /** Where transitions go: the event store. */
  record(event: NewEvent): void;
  /**
   * Something changed that discovery should know: `complete` when a whole host was listed
   * (a successful observation: only those may let discovery prune an entity).
   */
  changed(complete: boolean): void;
  /** Whether the agent itself is healthy, for /healthz. */
  agentOk(): boolean;
  /** Every container view change, also for remediation (self-healing, flap detection). */
  viewed?(host: string, key: string, view: ContainerView | undefined, first?: boolean): void;
  /** Whether HA should offer a restart button for a container (policy allows it). */
  restartable?(host: string, name: string): boolean;
}

/**
 * Container watching, wired: collectors → tracker (hysteresis) → retained states and
 * events. The collectors and the tracker know nothing of MQTT or discovery.
 */
export class ContainerMonitoring {
  readonly tracker: ContainerTracker;
  readonly components: Component[];
  readonly #config: Config;
  readonly #restartable: (host: string, name: string) => boolean;

  constructor(deps: ContainerMonitoringDeps) {
    const { config, root, states } = deps;
    this.#config = config;
    this.#restartable = (host, name) => deps.restartable?.(host, name) ?? false;
    this.tracker = new ContainerTracker({
      clock: deps.clock,
      log: deps.log.child({ component: 'containers' }),
      downAfterMs: config.containers.down_after,
      cooldownMs: config.containers.cooldown,
      onEvent: (e) => deps.record(e),
      // The tracker publishes only changes and keeps every view: the states are its own,
      // not copied into the StatePublisher (one JSON string per container otherwise).
      onContainer: (host, key, view, first) => {
        const topic = topics.container(root, host, key);
        void (view ? states.publish(topic, containerStatePayload(view)) : states.clear(topic));
        deps.viewed?.(host, key, view, first);
      },
      onHost: (host, view) => {
        if (!view) {
          void states.clear(topics.host(root, host));
          return;
        }
        void states.set(topics.host(root, host), hostStatePayload(view));
        if (view.status !== 'unknown') {
          void states.set(topics.hostAvailability(root, host), hostAvailability(view));
        }
      },
    });
    const tracker = this.tracker;
    states.addSource(function* () {
      for (const [host, key, view] of tracker.publishedViews()) {
        const payload = statePayload(containerStatePayload(view));
        yield { topic: topics.container(root, host, key), payload };
      }
    });
    const sink = (o: ContainerCollectorOutput) => {
      this.tracker.apply(o);
      if (o.kind === 'snapshot') deps.changed(true);
      else if (o.kind !== 'host') deps.changed(false);
    };
    this.components = createContainerCollectors(config, { clock: deps.clock, log: deps.log, sink });
    if (config.http.enabled) {
      this.components.push(
        new HealthApi({
          listen: config.http.listen,
          log: deps.log,
          services: () => this.tracker.servicesReport(),
          agent: () => ({ ok: deps.agentOk() }),
        }),
      );
    }
  }

  /** The containers discovery describes for a host: what the tracker holds now. */
  containersOf(host: string): Omit<ContainerDescription, 'host'>[] {
    return this.tracker.containerViews(host).map((v) => ({
      name: v.observation.name,
      labels: v.observation.labels,
      // Only where the policy lets a restart through: no button that can only be refused.
      withRestart: this.#restartable(host, v.observation.name),
    }));
  }

  /**
   * The SSH connection the host's collector keeps open, so remediation runs its commands
   * over it instead of opening a second one (one persistent connection per host).
   */
  runnerFor(host: string): CommandRunner | undefined {
    for (const c of this.components) {
      if (c instanceof RemoteContainerCollector && c.host === host) return c.runner;
    }
    return undefined;
  }

  watches(host: string): boolean {
    return this.#config.hosts.some((h) => h.id === host && h.engine !== undefined);
  }

  stop(): void {
    this.tracker.stop();
  }
}
