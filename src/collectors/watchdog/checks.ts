import type { WatchdogCheckConfig, WatchdogConfig } from '../../config/schema.js';
import { dnsProbe } from './dns-probe.js';
import { linkProbe } from './link-probe.js';
import { mqttProbe } from './mqtt-probe.js';
import { pingProbe } from './ping-probe.js';
import { commandProbe, httpProbe, tcpProbe, type Probe } from './probes.js';
import { routeProbe } from './route-probe.js';

/** The probe a configured check runs: exactly one kind per check (the schema says so). */
export function probeFor(c: WatchdogCheckConfig): Probe {
  if (c.tcp) return tcpProbe(c.tcp.host, c.tcp.port);
  if (c.http) return httpProbe(c.http);
  if (c.command) return commandProbe(c.command);
  if (c.route) return routeProbe({ iface: c.route.interface, family: c.route.family });
  if (c.link) return linkProbe(c.link);
  if (c.ping) {
    const { host, port } = c.ping;
    // A gateway that drops ICMP may still accept a connection on a port it serves.
    return port !== undefined ? tcpProbe(host, port) : pingProbe(host, c.timeout);
  }
  if (c.dns) return dnsProbe({ ...c.dns, timeoutMs: c.timeout });
  if (c.mqtt) return mqttProbe(mqttOptions(c.mqtt, c.timeout));
  throw new RangeError(`watchdog check ${c.id} has no kind`);
}

function mqttOptions(m: NonNullable<WatchdogCheckConfig['mqtt']>, timeoutMs: number) {
  const { url, username, password, protocol, ca_file, cert_file, key_file } = m;
  const tls = { caFile: ca_file, certFile: cert_file, keyFile: key_file };
  return { url, username, password, protocol, timeoutMs, tls };
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
