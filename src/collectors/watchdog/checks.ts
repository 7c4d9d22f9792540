import type { WatchdogCheckConfig, WatchdogConfig } from '../../config/schema.js';
import { commandProbe, httpProbe, tcpProbe, type Probe } from './probes.js';
import { Watchdog, type WatchdogCheck, type WatchdogOptions } from './watchdog.js';

export { Watchdog, type WatchdogState } from './watchdog.js';

/** The probe a configured check runs: exactly one of tcp, http, command (the schema says so). */
export function probeFor(c: WatchdogCheckConfig): Probe {
  if (c.tcp) return tcpProbe(c.tcp.host, c.tcp.port);
  if (c.http) return httpProbe(c.http);
  if (c.command) return commandProbe(c.command);
  throw new RangeError(`watchdog check ${c.id} has no tcp, http or command`);
}

export function watchdogChecks(config: WatchdogConfig): WatchdogCheck[] {
  return config.checks.map((c) => ({
    id: c.id,
    class: c.class,
    failAfter: c.fail_after,
    timeoutMs: c.timeout,
    probe: probeFor(c),
  }));
}

/** The watchdog for the `watchdog` section; the caller supplies where state and events go. */
export function watchdogFromConfig(
  config: WatchdogConfig,
  deps: Omit<WatchdogOptions, 'checks' | 'intervalMs' | 'devicePath'>,
): Watchdog {
  return new Watchdog({
    ...deps,
    checks: watchdogChecks(config),
    intervalMs: config.interval,
    devicePath: config.device.enabled ? config.device.path : undefined,
  });
}
