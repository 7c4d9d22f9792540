import type { Clock } from '../../core/clock.js';
import { OutpostError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SshSession } from '../../hosts/ssh-pool.js';
import type { SshStatus } from '../../hosts/ssh-connection.js';
import type { JobHost } from './job-runner.js';
import { LocalProcess } from './local-process.js';
import { localProbe, remoteProbe, type Probe } from './probe.js';
import { RemoteProcess } from './remote-process.js';

export interface HostDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly tailBytes: number;
}

/** The agent's own machine. */
export function localHost(deps: HostDeps): JobHost & { probe: Probe } {
  const process = new LocalProcess({ clock: deps.clock, tailBytes: deps.tailBytes });
  const release = () => Promise.resolve();
  return {
    probe: localProbe,
    process: () => Promise.resolve({ process, probe: localProbe, release }),
  };
}

/**
 * An SSH host, over a lease of its one pinned connection (hosts/ssh-pool.ts) taken for the
 * run and given back after it: a job on a host the agent already watches logs in no more
 * than the watch does.
 */
export function sshHost(
  host: string,
  lease: (onStatus: (s: SshStatus) => void) => SshSession,
  deps: HostDeps,
): JobHost {
  return {
    async process() {
      let why = 'not connected';
      const ssh = lease((s) => {
        if (!s.connected) why = s.error.message;
      });
      await ssh.start();
      if (!ssh.connected) {
        await ssh.stop();
        throw new OutpostError('SSH_CONNECT', `cannot reach ${host} over SSH: ${why}`);
      }
      const log = deps.log.child({ host });
      const process = new RemoteProcess({
        runner: ssh,
        clock: deps.clock,
        tailBytes: deps.tailBytes,
        log,
      });
      return { process, probe: remoteProbe(ssh), release: () => ssh.stop() };
    },
  };
}
