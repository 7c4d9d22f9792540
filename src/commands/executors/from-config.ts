import type { Config } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import {
  SshConnection,
  sshTarget,
  type CommandRunner,
  type ExecOptions,
  type ExecResult,
} from '../../hosts/ssh-connection.js';
import { OutpostError } from '../../core/errors.js';
import { CliEngineControl } from './cli-engine-control.js';
import { ContainerExecutor } from './container.js';
import { ApiEngineControl, type EngineControl } from './engine-control.js';

/**
 * The container executor for a config: per host with `engine`, the same access the
 * container monitor uses — the engine API without `ssh`, the engine CLI over SSH with it.
 * With `runnerFor`, SSH commands go over the connection the host's collector keeps (asked
 * at each action); without it the executor opens, starts and stops its own.
 */
export function containerExecutor(
  config: Pick<Config, 'hosts' | 'containers' | 'remediation'>,
  deps: {
    clock: Clock;
    log: Logger;
    runnerFor?: (host: string) => CommandRunner | undefined;
    /** The container names last observed on a host (ContainerExecutorOptions.observed). */
    observed?: (host: string) => readonly string[] | undefined;
  },
): ContainerExecutor {
  const controls = new Map<string, EngineControl>();
  const timeoutMs = config.containers.timeout;
  for (const h of config.hosts) {
    if (!h.engine) continue;
    if (!h.ssh) {
      controls.set(
        h.id,
        new ApiEngineControl({
          ...(h.engine.url ? { url: h.engine.url } : {}),
          ...(h.engine.socket ? { socketPath: h.engine.socket } : {}),
          timeoutMs,
          clock: deps.clock,
        }),
      );
      continue;
    }
    const command = h.engine.command ?? ['docker'];
    const runnerFor = deps.runnerFor;
    if (runnerFor) {
      const host = h.id;
      const runner = {
        exec: (cmd: string, opts: ExecOptions) => sharedExec(runnerFor, host, cmd, opts),
      };
      controls.set(h.id, new CliEngineControl({ host, runner, command, timeoutMs }));
      continue;
    }
    const s = h.ssh;
    const ssh = new SshConnection({
      name: `${h.id} (remediation)`,
      target: sshTarget(s),
      clock: deps.clock,
      log: deps.log.child({ component: `remediation:${h.id}` }),
    });
    controls.set(
      h.id,
      new CliEngineControl({
        host: h.id,
        runner: ssh,
        command,
        timeoutMs,
        start: () => ssh.start(),
        stop: () => ssh.stop(),
      }),
    );
  }
  return new ContainerExecutor({
    controls,
    clock: deps.clock,
    actionTimeoutMs: config.remediation.action_timeout,
    verifyTimeoutMs: config.remediation.verify_timeout,
    ...(deps.observed ? { observed: deps.observed } : {}),
  });
}

function sharedExec(
  runnerFor: (host: string) => CommandRunner | undefined,
  host: string,
  command: string,
  opts: ExecOptions,
): Promise<ExecResult> {
  const runner = runnerFor(host);
  if (!runner) {
    return Promise.reject(
      new OutpostError('SSH_DISCONNECTED', `host ${host}: no SSH connection to run the action on`),
    );
  }
  return runner.exec(command, opts);
}
