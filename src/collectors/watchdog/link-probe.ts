import { readFile } from 'node:fs/promises';
import { INTERFACE_NAME } from '../../config/units.js';
import type { Probe } from './probes.js';

/**
 * Up while `iface` has carrier and its operstate is up (`unknown` too: loopback and some
 * drivers never report one), read from /sys/class/net (Documentation/ABI/testing/
 * sysfs-class-net). The name is checked again here: it becomes a path, never a shell word.
 */
export function linkProbe(iface: string, sysClassNet = '/sys/class/net'): Probe {
  if (!INTERFACE_NAME.test(iface)) throw new RangeError(`not an interface name: ${iface}`);
  const dir = `${sysClassNet}/${iface}`;
  return async () => {
    const operstate = await readAttr(`${dir}/operstate`);
    if (operstate.error === 'ENOENT') return { ok: false, message: `no interface ${iface}` };
    if (operstate.value === undefined) {
      return { ok: false, message: `${iface}: cannot read operstate: ${operstate.error}` };
    }
    // Reading carrier of an interface that is administratively down fails with EINVAL.
    const carrier = await readAttr(`${dir}/carrier`);
    const hasCarrier = carrier.value === '1';
    const state = `carrier ${hasCarrier ? 'up' : carrier.value === '0' ? 'down' : 'unknown'}, operstate ${operstate.value}`;
    const ok = hasCarrier && (operstate.value === 'up' || operstate.value === 'unknown');
    return { ok, message: `${iface}: ${state}` };
  };
}

async function readAttr(path: string): Promise<{ value?: string; error?: string }> {
  try {
    return { value: (await readFile(path, 'utf8')).trim() };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { error: e.code ?? e.message };
  }
}
