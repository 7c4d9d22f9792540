import { readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * The hardware watchdog's timeout in ms, from sysfs (Documentation/watchdog/watchdog-api.rst:
 * /sys/class/watchdog/watchdogN/timeout, in seconds); undefined when it cannot be read (an
 * older driver, a test's plain file). `/dev/watchdog` is the legacy name of watchdog0.
 */
export async function readDeviceTimeout(
  devicePath: string,
  sysClassWatchdog = '/sys/class/watchdog',
): Promise<number | undefined> {
  try {
    const name = basename(await realpath(devicePath));
    const dev = name === 'watchdog' ? 'watchdog0' : name;
    if (!/^watchdog\d+$/.test(dev)) return undefined;
    const seconds = Number((await readFile(`${sysClassWatchdog}/${dev}/timeout`, 'utf8')).trim());
    return Number.isInteger(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}
