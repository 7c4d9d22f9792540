import { isHost } from '../../config/units.js';
import { runInGroup } from './process-group.js';
import { lastLine, type Probe } from './probes.js';

/** ping's exit code when it sent the echo and no reply came (iputils ping(8)). */
const NO_REPLY = 1;

/**
 * Up when `host` answers one ICMP echo, through the system's `ping` (iputils) run with a
 * fixed argv — `-c 1 -W <s> -n <host>` — and no shell. The host was checked to be an IP
 * address or a host name, which never starts with `-`, so it cannot be read as an option.
 * ping needs CAP_NET_RAW (root, or the capability Debian sets on the binary) or the
 * ping_group_range sysctl; without either it fails, and its own words say so.
 */
export function pingProbe(host: string, timeoutMs: number, program = 'ping'): Probe {
  if (!isHost(host)) throw new RangeError(`not an IP address or host name: ${host}`);
  // Whole seconds, at least one: the watchdog cuts the run at the check's own timeout.
  const wait = String(Math.max(1, Math.floor(timeoutMs / 1000)));
  const args = ['-c', '1', '-W', wait, '-n', host];
  // Its output is read below: English, whatever the system's locale.
  const env = { ...process.env, LC_ALL: 'C' };
  return async (signal) => {
    const run = await runInGroup(program, args, signal, env);
    if (run.code === 0) {
      const rtt = /time[=<]([\d.]+) ?ms/.exec(run.stdout)?.[1];
      return { ok: true, message: `reply from ${host}${rtt ? ` in ${rtt} ms` : ''}` };
    }
    if (run.code === NO_REPLY) return { ok: false, message: `no reply from ${host} in ${wait} s` };
    if (run.code === null && run.error?.includes('ENOENT')) {
      return { ok: false, message: `${program} not found: install iputils-ping` };
    }
    const status = run.code !== null ? `exit ${run.code}` : (run.error ?? 'killed');
    const said = lastLine(run.stderr) ?? lastLine(run.stdout);
    return { ok: false, message: said ? `${status}: ${said}` : status };
  };
}
