import { join } from 'node:path';
import type { ContainerDescription } from '../../../discovery/entities/containers.js';
import { createContainerCollectors } from '../../collectors/containers/index.js';
import { RemoteContainerCollector } from '../../collectors/containers/remote-collector.js';
import type { ContainerCollectorOutput } from '../../collectors/containers/types.js';
import { offersRestart } from '../../commands/policy/index.js';
import type { Component } from '../../core/lifecycle.js';
import { StateFile } from '../../core/state-file.js';
import { topics } from '../../core/topics.js';
import type { CommandRunner } from '../../hosts/ssh-connection.js';
import { statePayload } from '../../mqtt/state-publisher.js';
import { ContainerTracker } from '../../state/container-tracker.js';
import {
  containerStatePayload,
  hostAvailability,
  hostStatePayload,
} from '../../state/container-view.js';
import { DOWN_CLOCKS_FILE, DownClocks, downClocksFileSchema } from '../../state/down-clocks.js';
import type { CapabilityContext } from '../capability.js';

/**
 * Container watching, wired: collectors → tracker (hysteresis) → retained states, and
 * transitions, container views and "the observed set changed" announced on the bus. The
 * collectors and the tracker know nothing of MQTT, discovery or remediation.
 */
export class ContainerMonitoring {
  readonly tracker: ContainerTracker;
  readonly components: Component[];
  readonly #ctx: CapabilityContext;
  /** Hosts whose containers were listed at least once: only their lists are complete. */
  readonly #listed = new Set<string>();
  /** Each host's last description for discovery, and the observations it was built from. */
  readonly #described = new Map<
    string,
    { observed: readonly object[]; containers: readonly Omit<ContainerDescription, 'host'>[] }
  >();

  constructor(ctx: CapabilityContext) {
    const { config, root, states, bus } = ctx;
    this.#ctx = ctx;
    const file = join(config.data_dir, DOWN_CLOCKS_FILE);
    const downClocks = new DownClocks(new StateFile(file, downClocksFileSchema, ctx.log));
    this.tracker = new ContainerTracker({
      clock: ctx.clock,
      log: ctx.log.child({ component: 'containers' }),
      downAfterMs: config.containers.down_after,
      cooldownMs: config.containers.cooldown,
      stableAfterMs: config.containers.stable_after,
      removedGraceMs: config.containers.removed_grace,
      incidents: ctx.incidents,
      downClocks,
      onEvent: (e) => bus.emit('event', e),
      // The tracker publishes only changes and keeps every view: the states are its own,
      // not copied into the StatePublisher (one JSON string per container otherwise).
      onContainer: (host, key, view, first) => {
        const topic = topics.container(root, host, key);
        void (view ? states.publish(topic, containerStatePayload(view)) : states.clear(topic));
        bus.emit('container', { host, key, view, first: first ?? false });
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
    closeUnwatched(ctx);
    const tracker = this.tracker;
    states.addSource(function* () {
      for (const [host, key, view] of tracker.publishedViews()) {
        const payload = statePayload(containerStatePayload(view));
        yield { topic: topics.container(root, host, key), payload };
      }
    });
    const sink = (o: ContainerCollectorOutput) => {
      this.tracker.apply(o);
      if (o.kind === 'snapshot') {
        this.#listed.add(o.host);
        bus.emit('observed', { complete: true });
      } else if (o.kind !== 'host') bus.emit('observed', { complete: false });
    };
    this.components = createContainerCollectors(config, {
      clock: ctx.clock,
      log: ctx.log,
      sink,
      ssh: ctx.ssh,
    });
  }

  /**
   * The containers discovery describes for a host: what the tracker holds now. Asked for
   * every host at each discovery round, which follows each host's poll: the description
   * is built again only when one of the host's observations changed (the collectors hand
   * an unchanged container's observation over as the same object), and is otherwise the
   * same array, whose key discovery then takes from `hostKeyOf` (issue 15: rebuilding
   * and digesting all 5,000 containers for every host's poll was most of a steady
   * round's allocation).
   */
  containersOf(host: string): readonly Omit<ContainerDescription, 'host'>[] {
    const observed = [...this.tracker.observationsOf(host)];
    const last = this.#described.get(host);
    if (last && sameItems(last.observed, observed)) return last.containers;
    const policy = this.#ctx.config.policy;
    const containers = observed.map((o) => ({
      name: o.name,
      labels: o.labels,
      // Only where the policy lets a restart through: no button that can only be refused.
      withRestart: offersRestart(policy, host, o.name),
    }));
    this.#described.set(host, { observed, containers });
    return containers;
  }

  /**
   * The names of the containers last observed on a host (running or not), or undefined
   * before its first complete listing: until then nobody can say a container is not there.
   */
  observedNames(host: string): string[] | undefined {
    if (!this.#listed.has(host)) return undefined;
    return this.tracker.containerViews(host).map((v) => v.observation.name);
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

  stop(): void {
    this.tracker.stop();
  }
}

/**
 * Incidents left open by an earlier run for hosts the config no longer watches: nothing
 * would ever close them (nor clear the critical-down sensor), so they close now.
 */
function closeUnwatched(ctx: CapabilityContext): void {
  const watched = new Set(ctx.config.hosts.filter((h) => h.engine).map((h) => h.id));
  for (const i of [...ctx.incidents.list('container'), ...ctx.incidents.list('host')]) {
    const host = i.subject.split('/')[0]!;
    if (watched.has(host)) continue;
    ctx.incidents.close(i.kind, i.subject);
    ctx.log.info(
      { subject: i.subject, incident: i.id },
      'incident closed: its host is no longer watched',
    );
  }
}

function sameItems(a: readonly object[], b: readonly object[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
