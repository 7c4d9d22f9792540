import { Resolver } from 'node:dns/promises';
import { errorMessage } from '../../core/errors.js';
import type { Probe } from './probes.js';

export interface DnsProbeOptions {
  readonly name: string;
  readonly type: 'A' | 'AAAA';
  /** Servers as Node's resolver takes them ("192.168.1.1", "127.0.0.1:5353", "[::1]:53"); the system's when absent. */
  readonly servers?: readonly string[];
  readonly timeoutMs: number;
}

/**
 * Up when `name` resolves to at least one address of `type`, asked of a DNS server (c-ares,
 * not getaddrinfo: /etc/hosts does not count, the resolver does). One try, bounded by the
 * check's timeout; an abort cancels the query.
 */
export function dnsProbe(opts: DnsProbeOptions): Probe {
  const query = `${opts.type} ${opts.name}`;
  return async (signal) => {
    // A resolver per run: cancel() ends every query of its resolver, and runs do not overlap.
    const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
    if (opts.servers) resolver.setServers([...opts.servers]);
    const onAbort = () => resolver.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const addresses =
        opts.type === 'A' ? await resolver.resolve4(opts.name) : await resolver.resolve6(opts.name);
      if (addresses.length === 0) return { ok: false, message: `${query}: no address` };
      const shown = addresses.slice(0, 3).join(', ') + (addresses.length > 3 ? ', …' : '');
      return { ok: true, message: `${query} resolves to ${shown}` };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, message: `${query} does not resolve: ${code ?? errorMessage(err)}` };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };
}
