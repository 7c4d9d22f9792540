import type { Clock } from '../core/clock.js';
import type { NewEvent } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ActionStep } from '../state/bus-events.js';
import { withDeadline } from '../hosts/deadline.js';
import type { ActionStore } from './action-store.js';
import {
  isFinal,
  newRecord,
  oldestFirst,
  transition,
  type ActionRecord,
  type ActionStatus,
  type NewAction,
} from './actions.js';
import type { NewAuditEntry } from './audit.js';
import type { ExecAction, Origin } from './command.js';
import type { ExecutionResult } from './executors/types.js';
import type { ExecutorRegistry } from './executors/registry.js';
import type { Decision, PolicyRequest } from './policy/index.js';
import type { RemediationPublisher } from './publisher.js';
import { actionEvent, type RemediationEventType } from './remediation-events.js';
import type { RestartBudgets } from './restart-budget.js';
import type { Suppressions } from './suppressions.js';
import { KeyedTimers } from './keyed-timers.js';

export interface RunnerSettings {
  approvalTimeoutMs: number;
  actionTimeoutMs: number;
  verifyTimeoutMs: number;
  quietAfterRestartMs: number;
  keepFinishedMs: number;
}

export interface ActionRunnerDeps {
  store: ActionStore;
  executors: ExecutorRegistry;
  audit: { append(entry: NewAuditEntry): Promise<void> };
  publisher: RemediationPublisher;
  budgets: RestartBudgets;
  suppressions: Suppressions;
  clock: Clock;
  log: Logger;
  settings: RunnerSettings;
  decide(req: PolicyRequest): Decision;
  record(event: NewEvent): void;
  /** Tells the agent's bus an action started running or ended (`action`). */
  announce?(step: ActionStep): void;
}

const CONTAINER_ACTIONS = new Set(['restart_container', 'start_container', 'stop_container']);

/**
 * The action lifecycle: holds actions for approval (with expiry), runs allowed and
 * approved ones through their executor, records every step in the store before it is
 * published, and audits approvals, rejections, expiries and results.
 */
export class ActionRunner {
  readonly #d: ActionRunnerDeps;
  readonly #expiry: KeyedTimers;
  readonly #active = new Set<string>();
  readonly #claimed = new Set<string>();

  constructor(deps: ActionRunnerDeps) {
    this.#d = deps;
    this.#expiry = new KeyedTimers(deps.clock);
  }

  /**
   * Reserves the target for one action at a time; false when another holds it. The
   * caller releases it unless it hands the action to runNow / approve, which do.
   */
  reserve(target: string): boolean {
    if (this.#active.has(target)) return false;
    this.#active.add(target);
    return true;
  }

  release(target: string): void {
    this.#active.delete(target);
  }

  /** Claims a pending action for one approve / reject; false when another got it first. */
  claim(id: string): boolean {
    if (this.#claimed.has(id)) return false;
    this.#claimed.add(id);
    return true;
  }

  pendingFor(target: string, action: ExecAction): ActionRecord | undefined {
    return this.#d.store
      .list()
      .find((r) => r.status === 'pending' && r.target === target && r.action === action);
  }

  /** The actions awaiting approval, oldest first. */
  pending(): ActionRecord[] {
    return oldestFirst(this.#d.store.list().filter((r) => r.status === 'pending'));
  }

  /** Holds an action for a human; it expires after `approval_timeout`. */
  async hold(a: NewAction, decision: Decision): Promise<ActionRecord> {
    const now = this.#d.clock.now();
    const expires = now + this.#d.settings.approvalTimeoutMs;
    const rec = newRecord(a, 'pending', decision, now, expires, a.requestedBy ?? a.origin);
    await this.#d.store.put(rec);
    this.#publish(rec);
    this.#event('remediation_pending', rec, true);
    this.#armExpiry(rec.id, expires - now);
    return rec;
  }

  /** Runs an action the policy allowed (its target reserved); resolves with its final record. */
  async runNow(a: NewAction, decision: Decision): Promise<ActionRecord> {
    const rec = newRecord(a, 'approved', decision, this.#d.clock.now(), null, 'policy');
    try {
      await this.#d.store.put(rec);
    } catch (err) {
      this.release(rec.target);
      throw err;
    }
    this.#publish(rec);
    return this.#execute(rec);
  }

  /**
   * A human approves (the action claimed, its target reserved): the policy looks again,
   * with the approval, then it runs.
   */
  async approve(rec: ActionRecord, by: string, origin: Origin): Promise<ActionRecord> {
    let approved: ActionRecord;
    let refusal: string | undefined;
    try {
      const decision = this.#d.decide({
        action: rec.action,
        target: rec.target,
        origin: rec.origin,
        automatic: false,
        approvedBy: by,
        ...(rec.requested_by !== null ? { sender: rec.requested_by } : {}),
      });
      if (decision.verdict === 'deny') refusal = decision.message;
      await this.#audit(
        rec,
        'approval',
        by,
        origin,
        refusal ? 'refused' : 'approved',
        decision.message,
      );
      this.#expiry.clear(rec.id);
      approved = transition(rec, 'approved', this.#iso(), by, null);
      if (!refusal) await this.#d.store.put(approved);
    } catch (err) {
      this.release(rec.target);
      throw err;
    }
    if (refusal !== undefined) {
      this.release(rec.target);
      return this.#finish(rec, 'rejected', 'policy', refusal);
    }
    this.#publish(approved);
    return this.#execute(approved);
  }

  async reject(
    rec: ActionRecord,
    by: string,
    origin: Origin,
    note: string | null,
  ): Promise<ActionRecord> {
    await this.#audit(rec, 'rejection', by, origin, 'rejected', note ?? undefined);
    this.#expiry.clear(rec.id);
    return this.#finish(rec, 'rejected', by, note);
  }

  /** After a restart of the agent: pending actions wait again, interrupted ones failed. */
  async restore(): Promise<void> {
    const now = this.#d.clock.now();
    for (const rec of this.#d.store.list()) {
      if (rec.status === 'pending') {
        const left = Date.parse(rec.expires_at ?? '') - now;
        if (left > 0) {
          this.#armExpiry(rec.id, left);
          this.#d.publisher.action(rec);
        } else {
          await this.#expire(rec.id);
        }
      } else if (rec.status === 'approved' || rec.status === 'running') {
        const note = 'interrupted: the agent stopped before the action finished';
        await this.#audit(rec, 'recovery', 'agent', rec.origin, 'failed', note);
        await this.#finish(rec, 'failed', 'agent', note, { ok: false, message: note });
      }
    }
    await this.prune();
    this.#d.publisher.pending(this.#d.store.list());
  }

  /** Drops finished actions older than `keep_finished`, and their retained topics. */
  async prune(): Promise<void> {
    const cutoff = this.#d.clock.now() - this.#d.settings.keepFinishedMs;
    for (const rec of this.#d.store.list()) {
      if (!isFinal(rec.status) || Date.parse(rec.updated_at) >= cutoff) continue;
      await this.#d.store.delete(rec.id);
      this.#d.publisher.clearAction(rec.id);
    }
  }

  stop(): void {
    this.#expiry.clearAll();
  }

  async #execute(rec: ActionRecord): Promise<ActionRecord> {
    const { clock, settings } = this.#d;
    try {
      const running = transition(rec, 'running', this.#iso(), 'agent', null);
      await this.#d.store.put(running);
      this.#publish(running);
      this.#event('remediation_started', running, false);
      const now = clock.now();
      // A planned action (a person or a script asked) quiets the target's alerts and
      // automatic actions; self-healing's own restarts have the grace period instead.
      const container = CONTAINER_ACTIONS.has(rec.action) && rec.origin !== 'self_heal';
      const busyFor = settings.actionTimeoutMs + settings.verifyTimeoutMs;
      if (container)
        this.#d.suppressions.quiet(rec.target, now + busyFor + settings.quietAfterRestartMs);
      if (rec.action === 'restart_container') this.#d.budgets.recordAttempt(rec.target, now);
      const deadlineMs = busyFor + 5_000;
      this.#announce(running, 'running', now + deadlineMs);
      const result = await this.#run(rec, deadlineMs);
      if (container)
        this.#d.suppressions.quiet(rec.target, clock.now() + settings.quietAfterRestartMs);
      this.#announce(running, result.ok ? 'completed' : 'failed');
      return await this.#recordResult(running, result);
    } catch (err) {
      // The store refused a step: nothing more runs; say so where it can still be said.
      this.#d.log.error({ action: rec.id, err: errorMessage(err) }, 'action aborted');
      throw err;
    } finally {
      this.release(rec.target);
    }
  }

  /**
   * Audits and stores what ran. It has run by now: a disk that refuses the record must not
   * turn the answer into "refused, try again" (a retry would run it twice), so the answer
   * is the result, and the log says that it is not on disk.
   */
  async #recordResult(running: ActionRecord, result: ExecutionResult): Promise<ActionRecord> {
    const status = result.ok ? 'completed' : 'failed';
    try {
      await this.#audit(running, 'result', 'agent', running.origin, status, result.message);
      return await this.#finish(running, status, 'agent', result.message, result);
    } catch (err) {
      this.#d.log.error(
        { action: running.id, status, err: errorMessage(err) },
        'action ran, but its result could not be recorded',
      );
      const done = transition(running, status, this.#iso(), 'agent', result.message, {
        ...result,
      });
      this.#publish(done);
      const type = status === 'completed' ? 'remediation_completed' : 'remediation_failed';
      this.#event(type, done, status === 'failed');
      return done;
    }
  }

  async #run(rec: ActionRecord, deadlineMs: number): Promise<ExecutionResult> {
    const executor = this.#d.executors.for(rec.action);
    const req = { actionId: rec.id, action: rec.action, target: rec.target, args: rec.args };
    try {
      return await withDeadline(this.#d.clock, deadlineMs, `${rec.action} ${rec.target}`, () =>
        executor.run(req),
      );
    } catch (err) {
      return { ok: false, message: errorMessage(err) };
    }
  }

  async #finish(
    rec: ActionRecord,
    to: ActionStatus,
    by: string,
    note: string | null,
    result?: ExecutionResult,
  ): Promise<ActionRecord> {
    const done = transition(rec, to, this.#iso(), by, note, result ? { ...result } : undefined);
    await this.#d.store.put(done);
    this.#publish(done);
    const type = to === 'completed' ? 'remediation_completed' : 'remediation_failed';
    // Expired: nobody answered and the problem is likely still there, so people hear of it.
    this.#event(type, done, to === 'failed' || to === 'expired');
    void this.prune().catch(() => undefined);
    return done;
  }

  async #expire(id: string): Promise<void> {
    const rec = this.#d.store.get(id);
    if (!rec || rec.status !== 'pending' || this.#claimed.has(id)) return;
    const note = 'nobody approved it in time';
    await this.#audit(rec, 'expiry', 'agent', rec.origin, 'expired', note);
    await this.#finish(rec, 'expired', 'timeout', note);
  }

  #armExpiry(id: string, ms: number): void {
    this.#expiry.arm(id, ms, () => {
      this.#expire(id).catch((err: unknown) => {
        this.#d.log.error({ action: id, err: errorMessage(err) }, 'expiring an action failed');
      });
    });
  }

  #publish(rec: ActionRecord): void {
    this.#d.publisher.action(rec);
    this.#d.publisher.pending(this.#d.store.list());
  }

  #announce(rec: ActionRecord, status: ActionStep['status'], until?: number): void {
    const { id, action, target, origin } = rec;
    this.#d.announce?.({ id, action, target, status, origin, ...(until ? { until } : {}) });
  }

  #event(type: RemediationEventType, rec: ActionRecord, notify: boolean): void {
    try {
      this.#d.record(actionEvent(type, rec, notify, this.#d.clock.now()));
    } catch (err) {
      this.#d.log.error({ err: errorMessage(err) }, 'remediation event not recorded');
    }
  }

  #audit(
    rec: ActionRecord,
    kind: NewAuditEntry['kind'],
    who: string,
    origin: Origin,
    outcome: string,
    message?: string,
  ): Promise<void> {
    return this.#d.audit.append({
      kind,
      who,
      origin,
      action: rec.action,
      target: rec.target,
      command_id: null,
      action_id: rec.id,
      outcome,
      ...(message !== undefined ? { message } : {}),
    });
  }

  #iso(): string {
    return new Date(this.#d.clock.now()).toISOString();
  }
}
