import { mountKeys, type DiskHost } from '../../../discovery/entities/disks.js';
import type { Config, DisksConfig, HostConfig } from '../../config/schema.js';
import { topics } from '../../core/topics.js';
import type { CapabilityContext } from '../capability.js';
import { thresholdsFor } from './levels.js';
import { LocalDiskReader } from './local-reader.js';
import { DiskPoller } from './poller.js';
import { RemoteDiskReader } from './remote-reader.js';
import { offersAction } from '../../commands/policy/index.js';
import { cleanupTargets } from './cleanup/from-config.js';
import type { CleanupTarget } from './cleanup/executor.js';
import { SmartMonitoring } from './smart/monitoring.js';
import type { SmartState } from './smart/tracker.js';
import { DISK_KIND, DiskTracker, type DiskState } from './tracker.js';
import type { DiskReading } from './types.js';
import type { SmartReading } from './smart/reader.js';

/**
 * The hosts whose disks are watched: every SSH host, and the first host without `ssh`
 * (the machine the agent runs on), whose device the local disks join.
 */
export function diskHosts(config: Config): HostConfig[] {
  const local = config.hosts.find((h) => !h.ssh);
  return config.hosts.filter((h) => h.ssh || h === local);
}

/**
 * Disks, wired: a poller per host (statfs locally, the fixed script over SSH) → the
 * tracker (levels, growth, incidents) → retained states and events on the bus.
 */
export class DiskMonitoring {
  readonly pollers: DiskPoller[];
  readonly tracker: DiskTracker;
  readonly smart: SmartMonitoring;
  /** Hosts with cleanup jobs (`hosts[].cleanup`), for the executor and the buttons. */
  readonly cleanup: ReadonlyMap<string, CleanupTarget>;
  readonly #ctx: CapabilityContext;
  /** Hosts read whole at least once: only their mount lists can refuse a mount. */
  readonly #listed = new Set<string>();
  readonly #hosts: string[];
  readonly #states = new Map<string, Map<string, DiskState>>();

  constructor(ctx: CapabilityContext, section: DisksConfig) {
    this.#ctx = ctx;
    const hosts = diskHosts(ctx.config);
    this.#hosts = hosts.map((h) => h.id);
    closeUnwatched(ctx, new Set(this.#hosts));
    this.tracker = new DiskTracker({
      thresholds: (mount) => thresholdsFor(mount, section),
      windowMs: section.window,
      fillWarnMs: section.fill_warn,
      incidents: ctx.incidents,
      onEvent: (e) => ctx.bus.emit('event', e),
    });
    const log = ctx.log.child({ component: 'disks' });
    const rules = { include: section.include, exclude: section.exclude };
    this.pollers = hosts.map((h) => {
      const common = {
        host: h.id,
        failed: (error: string): DiskReading => ({ complete: false, error }),
        pollEveryMs: section.poll_every,
        clock: ctx.clock,
        log,
        onReading: (host: string, r: DiskReading, at: number) => this.#apply(host, r, at),
      };
      if (!h.ssh) {
        const reader = new LocalDiskReader({ rules, timeoutMs: section.timeout, clock: ctx.clock });
        return new DiskPoller({ ...common, reader });
      }
      // The host's one connection, shared with its container collector: built first, wired after.
      const wired: { poller?: DiskPoller } = {};
      const ssh = ctx.ssh.lease(h.id, (s) => {
        if (s.connected) wired.poller?.connected();
      });
      const reader = new RemoteDiskReader({ runner: ssh, rules, timeoutMs: section.timeout });
      wired.poller = new DiskPoller({ ...common, reader, ssh });
      return wired.poller;
    });
    this.smart = new SmartMonitoring(ctx, section, hosts);
    this.cleanup = cleanupTargets(ctx, section, hosts);
  }

  /** The mounts of a host as last read whole, or undefined before that. */
  mountsRead(host: string): string[] | undefined {
    return this.#listed.has(host) ? this.tracker.mounts(host) : undefined;
  }

  /** Every poller: usage, then SMART. */
  get components(): (DiskPoller | DiskPoller<SmartReading>)[] {
    return [...this.pollers, ...this.smart.pollers];
  }

  /** The watched hosts and their mounts now, for discovery. */
  hosts(): DiskHost[] {
    const policy = this.#ctx.config.policy;
    return this.#hosts.map((id) => {
      const mounts = this.tracker.mounts(id);
      const target = this.cleanup.get(id);
      // A button only where a job applies and the policy could let the cleanup through.
      const offered = target !== undefined && offersAction(policy, 'disk_cleanup', id);
      return {
        id,
        mounts,
        drives: this.smart.drives(id),
        cleanable: offered ? mounts.filter((m) => target.jobsFor(m).length > 0) : [],
      };
    });
  }

  /** `GET /api/health/disks`: every mount's and every drive's state by host. */
  report(): Record<string, { mounts: DiskState[]; smart: SmartState[] }> {
    return Object.fromEntries(
      this.#hosts.map((h) => [
        h,
        { mounts: [...(this.#states.get(h)?.values() ?? [])], smart: this.smart.report(h) },
      ]),
    );
  }

  #apply(host: string, reading: DiskReading, at: number): void {
    const { root, states, bus } = this.#ctx;
    const before = this.tracker.mounts(host);
    const now = reading.complete ? reading.mounts.map((m) => m.mount) : [];
    // Keys of the mounts before and after: a gone mount's topic is cleared under its own.
    if (!reading.complete) {
      this.#ctx.log.debug({ host, err: reading.error }, 'disk poll failed');
    }
    if (reading.complete) this.#listed.add(host);
    const keys = mountKeys([...new Set([...before, ...now])]);
    const held = this.#states.get(host) ?? new Map<string, DiskState>();
    this.#states.set(host, held);
    this.tracker.apply(host, reading, at, (mount, state) => {
      const topic = topics.disk(root, host, keys.get(mount) ?? mount);
      if (state) {
        held.set(mount, state);
        void states.set(topic, state);
      } else {
        held.delete(mount);
        void states.clear(topic);
      }
    });
    // Only a whole reading may let discovery prune a mount that is gone.
    bus.emit('observed', { complete: reading.complete });
  }
}

/** Incidents of disks on hosts no longer watched: nothing would ever close them. */
export function closeUnwatched(ctx: CapabilityContext, watched: ReadonlySet<string>): void {
  for (const i of ctx.incidents.list(DISK_KIND)) {
    const host = i.subject.slice(0, i.subject.indexOf(':'));
    if (watched.has(host)) continue;
    ctx.incidents.close(i.kind, i.subject);
    ctx.log.info(
      { subject: i.subject, incident: i.id },
      'incident closed: its disk is no longer watched',
    );
  }
}
