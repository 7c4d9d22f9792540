import { createHash, createHmac } from 'node:crypto';

/**
 * Host key pinning: an SSH fingerprint as `ssh-keygen -lf` prints it, and OpenSSH's
 * known_hosts format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain, `[host]:port`,
 * comma lists, `*`/`?` wildcards, `!` negation, hashed `|1|salt|hash` names, and the
 * `@revoked` marker. `@cert-authority` lines are skipped: certificates are not supported,
 * so such a host has no usable pin and is refused.
 */

/** `SHA256:` + unpadded base64 of the SHA-256 of the key blob (as `ssh-keygen -lf`). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (RFC 4253 §6.6), e.g. `ssh-ed25519`. */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len > 64 || blob.length < 4 + len) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** How known_hosts names a host: plain for port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface KnownHostKey {
  readonly type: string;
  readonly blob: Buffer;
}

export interface KnownHostsMatch {
  /** Keys the host may present. */
  readonly keys: readonly KnownHostKey[];
  /** Keys that must be refused whoever presents them. */
  readonly revoked: readonly Buffer[];
}

/** The keys pinned for host:port in known_hosts text. */
export function knownHostKeys(text: string, host: string, port: number): KnownHostsMatch {
  const name = knownHostsName(host, port);
  const keys: KnownHostKey[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [patterns, type, b64] = fields;
    if (!patterns || !type || !b64) continue;
    const blob = Buffer.from(b64, 'base64');
    if (marker === '@revoked') {
      revoked.push(blob);
      continue;
    }
    if (marker !== undefined) continue;
    if (keyType(blob) !== type) continue;
    if (hostMatches(patterns, name)) keys.push({ type, blob });
  }
  return { keys, revoked };
}

/** A comma list of patterns: matched by any positive one and by no negated one. */
function hostMatches(patterns: string, name: string): boolean {
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) {
      matched = true;
    }
  }
  return matched;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  const re = new RegExp(
    `^${pattern
      .replace(/[\\^$.|+()[\]{}]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
    'i',
  );
  return re.test(name);
}

/** The host key algorithms that can produce one of these keys, in preference order. */
export function hostKeyAlgorithms(types: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of types) {
    const algs = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algs) if (!out.includes(a)) out.push(a);
  }
  return out;
}
