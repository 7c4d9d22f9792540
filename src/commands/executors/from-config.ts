import type { Config } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { SshConnection, sshTarget } from '../../hosts/ssh-connection.js';
import { CliEngineControl } from './cli-engine-control.js';
import { ContainerExecutor } from './container.js';
import { ApiEngineControl, type EngineControl } from './engine-control.js';

/**
 * The container executor for a config: per host with `engine`, the same access the
 * container monitor uses — the engine API without `ssh`, the engine CLI over SSH with it
 * (its own SSH connection, started and stopped with the executor).
 */
export function containerExecutor(
  config: Pick<Config, 'hosts' | 'containers' | 'remediation'>,
  deps: { clock: Clock; log: Logger },
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
        command: h.engine.command ?? ['docker'],
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
  });
}
