import type { HostConfig } from '../src/config/schema.js';

/**
 * What a host's device is called in Home Assistant (issue #14): its `name` from config; else
 * the machine the agent runs on is called by its hostname, not by the id `local`; else (a
 * host over SSH, or an engine URL elsewhere) its id. Only the display name: identifiers,
 * unique ids and topics are built from the id, so renaming orphans no entity.
 */
export function hostDeviceName(
  host: HostConfig,
  hosts: readonly HostConfig[],
  machine: string,
): string {
  if (host.name !== undefined) return host.name;
  if (!onThisMachine(host) || machine === '') return host.id;
  // Two engines on one machine (docker and podman) would otherwise be two devices of one name.
  return hosts.filter(onThisMachine).length > 1 ? `${machine} ${host.id}` : machine;
}

/** A host without SSH whose engine (if any) is a local socket or a loopback URL. */
function onThisMachine(host: HostConfig): boolean {
  if (host.ssh !== undefined) return false;
  const url = host.engine?.url;
  if (url === undefined) return true;
  const at = new URL(url).hostname;
  return at === 'localhost' || at === '[::1]' || at.startsWith('127.');
}
