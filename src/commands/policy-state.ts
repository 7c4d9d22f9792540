import { join } from 'node:path';
import type { Config, RemediationConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { StateFile } from '../core/state-file.js';
import type { RunnerSettings } from './action-runner.js';
import { loadSuppressions, SUPPRESSIONS_FILE } from './control.js';
import { FlapDetector } from './flap-detector.js';
import { decide, type Decision, type PolicyRequest } from './policy/index.js';
import { POLICY_STATE_FILE, PolicyMemory, policyStateSchema } from './policy-memory.js';
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
  const file = new StateFile(join(config.data_dir, POLICY_STATE_FILE), policyStateSchema, log);
  // Budgets and flaps are saved on every change and taken back at start (issue #14).
  const memory: PolicyMemory = new PolicyMemory(file, () => ({
    budgets: budgets.snapshot(),
    flaps: flaps.snapshot(),
  }));
  const saved = memory.load();
  const budgets: RestartBudgets = new RestartBudgets({
    max: r.restarts.max,
    windowMs: r.restarts.window,
    resetAfterMs: r.restarts.reset_after,
    backoffInitialMs: r.backoff.initial,
    backoffMaxMs: r.backoff.max,
    graceMs: r.grace,
    ...(random ? { random } : {}),
    onChange: memory.changed,
  });
  const flaps: FlapDetector = new FlapDetector({
    changes: r.flapping.changes,
    windowMs: r.flapping.window,
    onChange: memory.changed,
  });
  budgets.restore(saved?.budgets ?? []);
  flaps.restore(saved?.flaps ?? []);
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
