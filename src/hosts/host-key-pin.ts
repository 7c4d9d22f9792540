import { readFile } from 'node:fs/promises';
import { errorMessage } from '../core/errors.js';
import {
  fingerprint,
  keyType,
  knownHostKeys,
  knownHostsName,
  type KnownHostsMatch,
} from './known-hosts.js';

/**
 * What a host's key must be, from `ssh.host_key` and/or `ssh.known_hosts`. There is no
 * trust-on-first-use: a host with no pin is refused, and so is any key that does not
 * match every configured pin.
 */
export interface HostKeyPins {
  readonly host: string;
  readonly port: number;
  /** `SHA256:…` as ssh-keygen -lf prints it. */
  readonly fingerprint?: string | undefined;
  /** The known_hosts file and what it holds for host:port. */
  readonly knownHosts?: { readonly file: string; readonly match: KnownHostsMatch } | undefined;
}

/** Reads the pins; throws a message (for SSH_HOST_KEY) when none is set or the file is unreadable. */
export async function loadPins(target: {
  host: string;
  port: number;
  hostKey?: string | undefined;
  knownHosts?: string | undefined;
}): Promise<HostKeyPins> {
  const { host, port, hostKey, knownHosts } = target;
  if (!hostKey && !knownHosts) {
    throw new Error('no host key pinned (ssh.host_key or ssh.known_hosts)');
  }
  if (!knownHosts) return { host, port, fingerprint: hostKey };
  const text = await readFile(knownHosts, 'utf8').catch((err: unknown) => {
    throw new Error(`cannot read ${knownHosts}: ${errorMessage(err)}`);
  });
  return {
    host,
    port,
    fingerprint: hostKey,
    knownHosts: { file: knownHosts, match: knownHostKeys(text, host, port) },
  };
}

/** Undefined when the offered key is acceptable; otherwise why it is refused. */
export function refusal(key: Buffer, pins: HostKeyPins): string | undefined {
  const offered = `; offered ${keyType(key)} ${fingerprint(key)}`;
  if (pins.fingerprint && fingerprint(key) !== pins.fingerprint) {
    return `host key refused: it is not the pinned ${pins.fingerprint} (ssh.host_key)${offered}`;
  }
  const known = pins.knownHosts;
  if (!known) return undefined;
  const name = knownHostsName(pins.host, pins.port);
  if (known.match.revoked.some((r) => r.equals(key))) {
    return `host key refused: it is marked @revoked in ${known.file}${offered}`;
  }
  if (known.match.keys.length === 0) {
    return `host key refused: ${known.file} has no key for ${name} (unknown host)${offered}`;
  }
  if (!known.match.keys.some((k) => k.blob.equals(key))) {
    return `host key refused: it matches no key for ${name} in ${known.file} (changed host key?)${offered}`;
  }
  return undefined;
}

/** The key types the pins allow, for offering only matching host key algorithms. */
export function pinnedKeyTypes(pins: HostKeyPins): string[] {
  return pins.knownHosts?.match.keys.map((k) => k.type) ?? [];
}
