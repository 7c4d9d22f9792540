import type { HostConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { OutpostError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { SshConnection, sshTarget } from '../../hosts/ssh-connection.js';
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
 * An SSH host: one connection per run, closed after it (a backup runs once a night; the
 * lead may move it onto the per-host connection pool when that lands).
 */
export function sshHost(
  host: HostConfig & { ssh: NonNullable<HostConfig['ssh']> },
  deps: HostDeps,
): JobHost {
  return {
    async process() {
      const ssh = new SshConnection({
        name: `${host.id} (backups)`,
        target: sshTarget(host.ssh),
        clock: deps.clock,
        log: deps.log,
      });
      await ssh.start();
      if (!ssh.connected) {
        const why = ssh.lastError?.message ?? 'not connected';
        await ssh.stop();
        throw new OutpostError('SSH_CONNECT', `cannot reach ${host.id} over SSH: ${why}`);
      }
      const log = deps.log.child({ host: host.id });
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
