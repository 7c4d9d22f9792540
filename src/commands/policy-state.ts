import { join } from 'node:path';
import type { Config, RemediationConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { RunnerSettings } from './action-runner.js';
import { loadSuppressions, SUPPRESSIONS_FILE } from './control.js';
import { FlapDetector } from './flap-detector.js';
import { decide, type Decision, type PolicyRequest } from './policy/index.js';
import { RestartBudgets } from './restart-budget.js';
import type { Suppressions } from './suppressions.js';

/** What the policy hooks read, built from config, and the decide function over it. */
export interface PolicyState {
  readonly budgets: RestartBudgets;
  readonly flaps: FlapDetector;
  readonly suppressions: Suppressions;
  readonly decide: (req: PolicyRequest) => Decision;
}

export function policyState(
  config: Pick<Config, 'data_dir' | 'policy' | 'remediation'>,
  clock: Clock,
  log: Logger,
  random?: () => number,
): PolicyState {
  const r = config.remediation;
  const budgets = new RestartBudgets({
    max: r.restarts.max,
    windowMs: r.restarts.window,
    resetAfterMs: r.restarts.reset_after,
    backoffInitialMs: r.backoff.initial,
    backoffMaxMs: r.backoff.max,
    graceMs: r.grace,
    ...(random ? { random } : {}),
  });
  const flaps = new FlapDetector({ changes: r.flapping.changes, windowMs: r.flapping.window });
  const suppressions = loadSuppressions(join(config.data_dir, SUPPRESSIONS_FILE), log);
  return {
    budgets,
    flaps,
    suppressions,
    decide: (req) =>
      decide(req, {
        now: clock.now(),
        rules: config.policy,
        anonymousCommands: r.anonymous_commands,
        budget: budgets,
        flapping: flaps,
        suppression: suppressions,
      }),
  };
}

export function runnerSettings(r: RemediationConfig): RunnerSettings {
  return {
    approvalTimeoutMs: r.approval_timeout,
    actionTimeoutMs: r.action_timeout,
    verifyTimeoutMs: r.verify_timeout,
    quietAfterRestartMs: r.quiet_after_restart,
    keepFinishedMs: r.keep_finished,
  };
}
