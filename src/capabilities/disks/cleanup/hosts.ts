import { statfs } from 'node:fs/promises';
import { OutpostError } from '../../../core/errors.js';
import { runArgv } from '../../../hosts/run-argv.js';
import type { Clock } from '../../../core/clock.js';
import type { Logger } from '../../../core/logger.js';
import { runInOwnGroup } from '../../../hosts/remote-group.js';
import type { CommandRunner } from '../../../hosts/ssh-connection.js';
import { RemoteDiskReader } from '../remote-reader.js';

/** How a cleanup job ended. */
export interface JobOutcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

/** Used and free bytes of one mount, read when asked. */
export interface MountSpace {
  readonly used: number;
  readonly free: number;
}

/** Where a host's cleanup jobs run and its mounts are measured. */
export interface CleanupHost {
  run(argv: readonly string[], timeoutMs: number): Promise<JobOutcome>;
  space(mount: string): Promise<MountSpace>;
}

/** This machine: the job by argv in its own process group (killed whole on timeout), statfs. */
export const localCleanupHost: CleanupHost = {
  run: (argv, timeoutMs) => runArgv(argv, { timeoutMs, maxOutputBytes: 1024 * 1024 }),
  async space(mount) {
    const s = await statfs(mount, { bigint: true });
    return { used: Number((s.blocks - s.bfree) * s.bsize), free: Number(s.bavail * s.bsize) };
  },
};

const MAX_STDERR = 64 * 1024;

/**
 * An SSH host, over its shared connection: the job's argv from config with each word
 * quoted, in a process group of its own that is killed whole on timeout
 * (hosts/remote-group.ts), and the mount measured by the disks' own fixed script
 * (DISKS_SCRIPT), so no mount point is ever written into a command.
 */
export function remoteCleanupHost(
  host: string,
  runner: () => CommandRunner | undefined,
  timeoutMs: number,
  env: { readonly clock: Clock; readonly log: Logger },
): CleanupHost {
  const connection = () => {
    const r = runner();
    if (!r) throw new OutpostError('SSH_DISCONNECTED', `host ${host}: no SSH connection`);
    return r;
  };
  return {
    async run(argv, jobTimeoutMs) {
      const r = await runInOwnGroup(connection(), argv, {
        timeoutMs: jobTimeoutMs,
        clock: env.clock,
        log: env.log,
        what: `cleanup job on ${host}`,
        // A cleanup job's output is not reported; only its exit and stderr are.
        onStdout: () => {},
      });
      if (r.error !== undefined) throw new OutpostError('SSH_DISCONNECTED', `${host}: ${r.error}`);
      if (r.timedOut) {
        const s = Math.round(jobTimeoutMs / 1000);
        throw new OutpostError('TIMEOUT', `timed out after ${s} s; its process group was killed`);
      }
      return { code: r.code, signal: r.signal, stderr: r.stderr.slice(-MAX_STDERR) };
    },
    async space(mount) {
      const reader = new RemoteDiskReader({
        runner: connection(),
        // Every mount, whatever its filesystem: the one asked for is picked below.
        rules: { include: ['*'], exclude: [] },
        timeoutMs,
      });
      const reading = await reader.read();
      if (!reading.complete) throw new OutpostError('ENGINE_BAD_OUTPUT', reading.error);
      const m = reading.mounts.find((x) => x.mount === mount);
      if (!m) throw new OutpostError('ENGINE_BAD_OUTPUT', `${host}: ${mount} is not mounted`);
      if ('error' in m) throw new OutpostError('ENGINE_BAD_OUTPUT', `${host}:${mount}: ${m.error}`);
      return { used: m.usage.used, free: m.usage.free };
    },
  };
}
