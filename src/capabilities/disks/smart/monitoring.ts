import type { DisksConfig, HostConfig } from '../../../config/schema.js';
import { topics } from '../../../core/topics.js';
import type { CapabilityContext } from '../../capability.js';
import { DiskPoller } from '../poller.js';
import { LocalSmartReader, RemoteSmartReader, type SmartReading } from './reader.js';
import { SmartBaselines } from './baselines.js';
import { SmartTracker, type SmartState } from './tracker.js';

/**
 * SMART, wired (issue #16): a poller per watched host (smartctl here, the fixed script
 * over the host's shared SSH connection) → the tracker (verdicts, reallocation,
 * incidents) → retained states and events. A host without smartctl has no drives: said
 * once in the log at info, never as an error.
 */
export class SmartMonitoring {
  readonly pollers: DiskPoller<SmartReading>[];
  readonly tracker: SmartTracker;
  readonly #ctx: CapabilityContext;
  readonly #states = new Map<string, Map<string, SmartState>>();
  readonly #absent = new Set<string>();

  constructor(ctx: CapabilityContext, section: DisksConfig, hosts: readonly HostConfig[]) {
    this.#ctx = ctx;
    const smart = section.smart;
    const log = ctx.log.child({ component: 'smart' });
    this.tracker = new SmartTracker({
      incidents: ctx.incidents,
      stableAfterMs: smart.stable_after,
      // smart.json is read only where SMART is polled.
      ...(smart.enabled ? { baselines: new SmartBaselines(ctx.config.data_dir, log) } : {}),
      onEvent: (e) => ctx.bus.emit('event', e),
    });
    this.pollers = smart.enabled
      ? hosts.map((h) => {
          const common = {
            host: h.id,
            what: 'smart',
            failed: (error: string): SmartReading => ({ kind: 'error', error }),
            pollEveryMs: smart.poll_every,
            clock: ctx.clock,
            log,
            onReading: (host: string, r: SmartReading, at: number) => this.#apply(host, r, at),
          };
          if (!h.ssh) {
            const reader = new LocalSmartReader(smart.command, smart.timeout);
            return new DiskPoller({ ...common, reader });
          }
          const wired: { poller?: DiskPoller<SmartReading> } = {};
          const ssh = ctx.ssh.lease(h.id, (s) => {
            if (s.connected) wired.poller?.connected();
          });
          const reader = new RemoteSmartReader(ssh, smart.command, smart.timeout);
          wired.poller = new DiskPoller({ ...common, reader, ssh });
          return wired.poller;
        })
      : [];
  }

  /** A host's drives now, for discovery. */
  drives(host: string): { key: string; name: string }[] {
    return [...(this.#states.get(host) ?? [])].map(([key, s]) => ({ key, name: s.device }));
  }

  /** Every drive's state by host, for the health API. */
  report(host: string): SmartState[] {
    return [...(this.#states.get(host)?.values() ?? [])];
  }

  #apply(host: string, reading: SmartReading, at: number): void {
    const { root, states, bus, log } = this.#ctx;
    if (reading.kind === 'absent' && !this.#absent.has(host)) {
      this.#absent.add(host);
      log.info({ host }, 'no smartctl on this host: no SMART health for its drives');
    } else if (reading.kind !== 'absent') this.#absent.delete(host);
    if (reading.kind === 'error') log.debug({ host, err: reading.error }, 'SMART poll failed');
    const held = this.#states.get(host) ?? new Map<string, SmartState>();
    this.#states.set(host, held);
    const before = held.size;
    this.tracker.apply(host, reading, at, (key, state) => {
      const topic = topics.smart(root, host, key);
      if (state) {
        held.set(key, state);
        void states.set(topic, state);
      } else {
        held.delete(key);
        void states.clear(topic);
      }
    });
    // Discovery prunes only on a whole reading; a failed poll changes no drive list.
    if (held.size !== before || reading.kind !== 'error') {
      bus.emit('observed', { complete: reading.kind !== 'error' });
    }
  }
}
