import type { WatchdogCheckConfig, WatchdogConfig } from '../../config/schema.js';
import { commandProbe, httpProbe, tcpProbe, type Probe } from './probes.js';

/** The probe a configured check runs: exactly one of tcp, http, command (the schema says so). */
export function probeFor(c: WatchdogCheckConfig): Probe {
  if (c.tcp) return tcpProbe(c.tcp.host, c.tcp.port);
  if (c.http) return httpProbe(c.http);
  if (c.command) return commandProbe(c.command);
  throw new RangeError(`watchdog check ${c.id} has no tcp, http or command`);
}

/** One configured check: what to run and how it counts (the tracker's CheckDefinition). */
export interface WatchdogCheck {
  readonly id: string;
  readonly class: WatchdogCheckConfig['class'];
  /** Consecutive failures before the check counts as down. */
  readonly failAfter: number;
  readonly timeoutMs: number;
  readonly probe: Probe;
}

/** The checks of the `watchdog` section, each with the probe it runs. */
export function watchdogChecks(config: WatchdogConfig): WatchdogCheck[] {
  return config.checks.map((c) => ({
    id: c.id,
    class: c.class,
    failAfter: c.fail_after,
    timeoutMs: c.timeout,
    probe: probeFor(c),
  }));
}
