import { readFile } from 'node:fs/promises';
import { errorMessage } from '../../core/errors.js';
import type { Probe } from './probes.js';

/** One default route the kernel holds. */
export interface DefaultRoute {
  readonly family: 'ipv4' | 'ipv6';
  readonly iface: string;
  /** The next hop, or undefined for a route straight onto the link (a point-to-point modem). */
  readonly gateway: string | undefined;
}

export interface RouteProbeOptions {
  /** Only a default route through this interface counts. */
  readonly iface?: string;
  readonly family: 'any' | 'ipv4' | 'ipv6';
  /** Where the kernel's tables are read: /proc/net by default, a fixture dir in tests. */
  readonly procNet?: string;
}

// include/uapi/linux/route.h and ipv6_route.h: the route is usable / is a "reject" route
// (an unreachable placeholder, such as the kernel's default on `lo` in /proc/net/ipv6_route).
const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;

/** Default routes of /proc/net/route: destination and mask 0, up, not a reject route. */
export function ipv4DefaultRoutes(table: string): DefaultRoute[] {
  return table
    .split('\n')
    .slice(1) // the header line
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] === '00000000' && f[7] === '00000000')
    .filter((f) => usable(Number.parseInt(f[3]!, 16)))
    .map((f) => ({ family: 'ipv4', iface: f[0]!, gateway: ipv4FromHex(f[2]!) }));
}

/** Default routes of /proc/net/ipv6_route: ::/0, up, not a reject route. */
export function ipv6DefaultRoutes(table: string): DefaultRoute[] {
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === '00')
    .filter((f) => usable(Number.parseInt(f[8]!, 16)))
    .map((f) => ({ family: 'ipv6', iface: f[9]!, gateway: ipv6FromHex(f[4]!) }));
}

function usable(flags: number): boolean {
  return Number.isFinite(flags) && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0;
}

/** /proc/net/route prints addresses as the bytes in memory: little-endian on x86 and arm. */
function ipv4FromHex(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex) || /^0+$/.test(hex)) return undefined;
  const bytes = [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return bytes.join('.');
}

function ipv6FromHex(hex: string): string | undefined {
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || /^0+$/.test(hex)) return undefined;
  const groups = hex.match(/.{4}/g)!.map((g) => Number.parseInt(g, 16).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/**
 * Up while the kernel has a default route (of `family`, through `iface` when named), read
 * from /proc/net: no program is run and nothing of the config reaches a shell.
 */
export function routeProbe(opts: RouteProbeOptions): Probe {
  const dir = opts.procNet ?? '/proc/net';
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(`${dir}/${file}`, 'utf8');
    } catch (err) {
      // No IPv6 in the kernel: no ipv6_route, and so no IPv6 default route.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  };
  return async () => {
    let routes: DefaultRoute[];
    try {
      const [v4, v6] = await Promise.all([
        opts.family === 'ipv6' ? '' : read('route'),
        opts.family === 'ipv4' ? '' : read('ipv6_route'),
      ]);
      routes = [...ipv4DefaultRoutes(v4), ...ipv6DefaultRoutes(v6)];
    } catch (err) {
      return { ok: false, message: `cannot read the routing table: ${errorMessage(err)}` };
    }
    const kind = opts.family === 'any' ? 'default route' : `${opts.family} default route`;
    const found = routes.find((r) => opts.iface === undefined || r.iface === opts.iface);
    if (found) return { ok: true, message: describe(found) };
    if (opts.iface === undefined) return { ok: false, message: `no ${kind}` };
    const others = routes.map(describe).join(', ');
    return {
      ok: false,
      message: `no ${kind} through ${opts.iface}${others ? ` (there is ${others})` : ''}`,
    };
  };
}

function describe(r: DefaultRoute): string {
  return `default ${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.iface}`;
}
