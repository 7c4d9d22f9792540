import type { Backoff } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import type { ContainersConfig, HostConfig } from '../../config/schema.js';
import { EngineApi } from '../../hosts/engine-api.js';
import { RemoteEngine } from '../../hosts/remote-engine.js';
import { SshConnection, sshTarget, type SshStatus } from '../../hosts/ssh-connection.js';
import type { SshPool } from '../../hosts/ssh-pool.js';
import { LocalContainerCollector } from './local-collector.js';
import { PollSlots } from './poll-slots.js';
import { RemoteContainerCollector } from './remote-collector.js';
import { ContainerSelector } from './selection.js';
import type { ContainerSink } from './types.js';

export type * from './types.js';
export { containerKey } from './identity.js';
export { LocalContainerCollector } from './local-collector.js';
export { RemoteContainerCollector } from './remote-collector.js';
export { PollSlots } from './poll-slots.js';

/**
 * How many SSH hosts are polled at once. A host's answer is read record by record, so
 * one poll in flight holds little; the limit keeps 50 hosts that poll together (after a
 * start or a reconnect) from holding fifty answers, fifty SSH windows and fifty parses.
 */
export const REMOTE_POLLS_AT_ONCE = 4;

export interface ContainerCollectorDeps {
  clock: Clock;
  log: Logger;
  /** Receives every output of every host, in order per host. */
  sink: ContainerSink;
  /** A fresh reconnect policy per host; default 500 ms…30 s (API), 1 s…60 s (SSH). */
  backoff?: () => Backoff;
  /** Shared by the SSH hosts' polls; createContainerCollectors makes one when absent. */
  pollSlots?: PollSlots;
  /** The agent's one connection per host; without it each collector opens its own. */
  ssh?: SshPool;
}

/** One collector per host that has `engine` set; hosts without it are not watched. */
export function createContainerCollectors(
  config: { hosts: readonly HostConfig[]; containers: ContainersConfig },
  deps: ContainerCollectorDeps,
): Component[] {
  const shared = { ...deps, pollSlots: deps.pollSlots ?? new PollSlots(REMOTE_POLLS_AT_ONCE) };
  return config.hosts.flatMap((h) => {
    const c = createHostCollector(h, config.containers, shared);
    return c ? [c] : [];
  });
}

/** The collector for one host: engine API without `ssh`, engine CLI over SSH with it. */
export function createHostCollector(
  host: HostConfig,
  containers: ContainersConfig,
  deps: ContainerCollectorDeps,
): LocalContainerCollector | RemoteContainerCollector | undefined {
  if (!host.engine) return undefined;
  const selector = new ContainerSelector(host);
  const log = deps.log.child({ component: `containers:${host.id}` });
  const common = { host: host.id, selector, clock: deps.clock, log, sink: deps.sink };
  if (!host.ssh) {
    const api = new EngineApi({
      ...(host.engine.url ? { url: host.engine.url } : {}),
      ...(host.engine.socket ? { socketPath: host.engine.socket } : {}),
      timeoutMs: containers.timeout,
      clock: deps.clock,
    });
    return new LocalContainerCollector({
      ...common,
      api,
      reconcileEveryMs: containers.reconcile_every,
      ...(host.engine.events_file ? { eventsFile: host.engine.events_file } : {}),
      ...(deps.backoff ? { backoff: deps.backoff() } : {}),
    });
  }
  const s = host.ssh;
  // The connection reports to the collector, which owns it: built first, wired after.
  const wired: { collector?: RemoteContainerCollector } = {};
  const onStatus = (status: SshStatus) => wired.collector?.onSshStatus(status);
  const ssh =
    deps.ssh?.lease(host.id, onStatus) ??
    new SshConnection({
      name: host.id,
      target: sshTarget(s),
      clock: deps.clock,
      log,
      ...(deps.backoff ? { backoff: deps.backoff() } : {}),
      onStatus,
    });
  const engine = new RemoteEngine({
    runner: ssh,
    command: host.engine.command ?? ['docker'],
    timeoutMs: containers.timeout,
    source: host.id,
  });
  wired.collector = new RemoteContainerCollector({
    ...common,
    ssh,
    engine,
    pollEveryMs: containers.poll_every,
    ...(deps.pollSlots ? { slots: deps.pollSlots } : {}),
  });
  return wired.collector;
}
