import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { UNVERIFIED } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import type { ActionRunner } from './action-runner.js';
import type { ActionStore } from './action-store.js';
import type { ActionRecord, NewAction } from './actions.js';
import { resolveTarget, selectCommand, type ApprovalSelection } from './approval-selection.js';
import type { NewAuditEntry } from './audit.js';
import {
  commandError,
  errorAnswer,
  isExecAction,
  type Answer,
  type Command,
  type CommandError,
  type ExecAction,
  type Origin,
} from './command.js';
import type { ControlCommands } from './control.js';
import type { ExecutorRegistry } from './executors/registry.js';
import { decisionAnswer, notPending, recordAnswer } from './answers.js';
import { fingerprint, IdempotencyCache } from './idempotency.js';
import type { Decision, PolicyRequest } from './policy/index.js';
import { approvalRefusal, rejectionRefusal, type Approvers } from './policy/approvers.js';
import { storageRefusal } from './storage-refusal.js';

export interface CommandServiceDeps {
  runner: ActionRunner;
  controls: ControlCommands;
  executors: ExecutorRegistry;
  store: ActionStore;
  audit: { append(entry: NewAuditEntry): Promise<void> };
  decide(req: PolicyRequest): Decision;
  clock: Clock;
  log: Logger;
  /** A fresh action id when the client gave none. */
  newId(): string;
  /** Who may approve and reject held actions. */
  approvers: Approvers;
  /** The action chosen in the select, for `approve` / `reject` with `selected: true`. */
  selection: ApprovalSelection;
}

/**
 * Where every command ends up, whatever carried it (MQTT router, self-healing, the
 * approval API of the HA / Telegram bridge): idempotency by id, the audit of what was
 * received and decided, the policy, then the action runner or the control commands.
 */
export class CommandService {
  readonly #d: CommandServiceDeps;
  readonly #seen = new IdempotencyCache();

  constructor(deps: CommandServiceDeps) {
    this.#d = deps;
  }

  /**
   * Handles one parsed command; never throws (an internal failure is an error answer).
   * `sender` is who the channel says sent it (the embedded broker's login, the approval
   * API's caller); undefined where the channel cannot tell (an external broker).
   */
  submit(cmd: Command, origin: Origin, sender?: string): Promise<Answer> {
    const fp = fingerprint(cmd);
    const from: From = { origin, sender };
    if (cmd.id !== undefined) {
      const again = this.#duplicate({ cmd, from, actionId: namedActionId(cmd) }, fp);
      if (again) return again;
    }
    const answer = this.#handle(cmd, from, fp).catch((err: unknown) => {
      const refused = storageRefusal(err);
      if (refused) {
        this.#d.log.warn({ action: cmd.action, err: errorMessage(err) }, 'command refused');
        return errorAnswer(cmd.action, cmd.id ?? null, refused);
      }
      this.#d.log.error({ action: cmd.action, err: errorMessage(err) }, 'command failed');
      return errorAnswer(
        cmd.action,
        cmd.id ?? null,
        commandError('internal', null, errorMessage(err)),
      );
    });
    if (cmd.id !== undefined) {
      const id = cmd.id;
      this.#seen.set(id, fp, answer);
      void answer.then((a) => a.error?.retryable && this.#seen.forget(id, answer));
    }
    return answer;
  }

  /** Audits a command that did not parse, and gives back its error answer. */
  async refuse(
    action: string,
    id: string | null,
    error: CommandError,
    origin: Origin,
    sender?: string,
  ): Promise<Answer> {
    await this.#audit({
      kind: 'command',
      who: whoOf({ origin, sender }),
      origin,
      action: action.slice(0, 64),
      target: null,
      command_id: id,
      action_id: null,
      outcome: 'invalid',
      message: `${error.code}${error.field ? ` (${error.field})` : ''}: ${error.message}`,
    }).catch(() => undefined);
    return errorAnswer(action, id, error);
  }

  /** Approval API for the Home Assistant / Telegram bridge: the same path as `cmd/approve`. */
  approve(actionId: string, by: string, reason?: string): Promise<Answer> {
    return this.#decideByApi('approve', actionId, by, reason);
  }

  reject(actionId: string, by: string, reason?: string): Promise<Answer> {
    return this.#decideByApi('reject', actionId, by, reason);
  }

  #decideByApi(
    action: 'approve' | 'reject',
    actionId: string,
    by: string,
    reason: string | undefined,
  ): Promise<Answer> {
    return this.submit(
      { action, target: actionId, args: {}, dryRun: false, ...(reason ? { reason } : {}) },
      'api',
      by,
    );
  }

  pending(): ActionRecord[] {
    return this.#d.runner.pending();
  }

  #duplicate(req: Req, fp: string): Promise<Answer> | undefined {
    const { cmd } = req;
    const id = cmd.id!;
    const seen = this.#seen.get(id);
    const stored = isExecAction(cmd.action) ? this.#d.store.get(id) : undefined;
    if (!seen && !stored) return undefined;
    const same = seen ? seen.fingerprint === fp : stored!.fingerprint === fp;
    void this.#audit(this.#entry(req, 'command', same ? 'duplicate' : 'id_conflict')).catch(
      () => undefined,
    );
    if (!same) {
      const msg = `id ${id} was already used for a different command`;
      return Promise.resolve(errorAnswer(cmd.action, id, commandError('id_conflict', 'id', msg)));
    }
    if (seen) return seen.answer.then((a) => ({ ...a, duplicate: true }));
    return Promise.resolve({ ...recordAnswer(stored!, cmd.action, id), duplicate: true });
  }

  async #handle(received: Command, from: From, fp: string): Promise<Answer> {
    // `oldest`, `selected` and a select's option name an action as of now: found first,
    // so the audit names the action that was decided.
    const found = resolveTarget(received, this.#d.runner.pending(), this.#d.selection);
    if (!found.ok) {
      await this.#audit(
        this.#entry({ cmd: received, from, actionId: null }, 'command', 'received'),
      );
      return errorAnswer(received.action, received.id ?? null, found.error);
    }
    const { cmd } = found;
    // The id an action will have is made before anything is audited, so every line of
    // its story (received, decision, approval, result) carries it (issue 14).
    const actionId = isExecAction(cmd.action) ? (cmd.id ?? this.#d.newId()) : namedActionId(cmd);
    const req: Req = { cmd, from, actionId };
    await this.#audit(this.#entry(req, 'command', 'received'));
    if (isExecAction(cmd.action)) return this.#exec(req, cmd.action, fp);
    if (cmd.action === 'approve' || cmd.action === 'reject') return this.#approval(req);
    if (cmd.action === 'select') return this.#select(req);
    return this.#control(req);
  }

  async #exec(req: Req, action: ExecAction, fp: string): Promise<Answer> {
    const { cmd, from } = req;
    const { origin } = from;
    const id = req.actionId!;
    const invalid = this.#d.executors
      .for(action)
      .validate({ actionId: id, action, target: cmd.target, args: cmd.args });
    if (invalid) {
      await this.#audit(this.#entry(req, 'decision', 'refused', invalid.message));
      return errorAnswer(action, cmd.id ?? null, invalid, { target: cmd.target });
    }
    if (!cmd.dryRun && !this.#d.runner.reserve(cmd.target)) {
      const msg = `an action on ${cmd.target} is running; try again when it has finished`;
      return errorAnswer(action, cmd.id ?? null, commandError('busy', 'target', msg), {
        target: cmd.target,
      });
    }
    let handedOver = false;
    try {
      const decision = await this.#decide(req);
      if (cmd.dryRun) return decisionAnswer(cmd, decision, true, this.#d.clock.now());
      if (decision.verdict === 'deny')
        return decisionAnswer(cmd, decision, false, this.#d.clock.now());
      const a: NewAction = {
        id,
        action,
        target: cmd.target,
        args: cmd.args,
        origin,
        // The channel's identity: a payload's requested_by is only a claim (audited).
        requestedBy: from.sender ?? null,
        reason: cmd.reason ?? null,
        fingerprint: fp,
      };
      if (decision.verdict === 'approve')
        return recordAnswer(await this.#d.runner.hold(a, decision), action, cmd.id ?? null);
      handedOver = true;
      return recordAnswer(await this.#d.runner.runNow(a, decision), action, cmd.id ?? null);
    } finally {
      if (!handedOver && !cmd.dryRun) this.#d.runner.release(cmd.target);
    }
  }

  async #approval(req: Req): Promise<Answer> {
    const { cmd, from } = req;
    const rec = this.#d.store.get(cmd.target);
    const id = cmd.id ?? null;
    if (!rec)
      return errorAnswer(
        cmd.action,
        id,
        commandError('not_found', 'target', `no action ${cmd.target}`),
      );
    if (rec.status !== 'pending') {
      const msg = `action ${rec.id} is ${rec.status}, not pending`;
      return errorAnswer(cmd.action, id, commandError('not_pending', 'target', msg), {
        status: rec.status,
      });
    }
    if (cmd.dryRun) {
      return {
        ok: true,
        id,
        action: cmd.action,
        target: rec.id,
        dry_run: true,
        status: rec.status,
        action_id: rec.id,
        message: `dry run: would ${cmd.action} ${rec.action} on ${rec.target}`,
      };
    }
    const refusal =
      cmd.action === 'approve'
        ? approvalRefusal(from.sender, rec, this.#d.approvers)
        : rejectionRefusal(from.sender, rec, this.#d.approvers);
    if (refusal !== undefined) {
      // Refused, audited, and the action keeps waiting for someone who may decide it.
      const kind = cmd.action === 'approve' ? 'approval' : 'rejection';
      await this.#audit(this.#entry(req, kind, 'refused', refusal));
      return errorAnswer(cmd.action, id, commandError('not_allowed', 'target', refusal), {
        status: rec.status,
      });
    }
    const by = from.sender!;
    const { origin } = from;
    if (cmd.action === 'reject') {
      if (!this.#d.runner.claim(rec.id)) return notPending(cmd, rec);
      return recordAnswer(
        await this.#d.runner.reject(rec, by, origin, cmd.reason ?? null),
        cmd.action,
        id,
      );
    }
    if (!this.#d.runner.reserve(rec.target)) {
      const msg = `an action on ${rec.target} is running; approve again when it has finished`;
      return errorAnswer(cmd.action, id, commandError('busy', 'target', msg));
    }
    if (!this.#d.runner.claim(rec.id)) {
      this.#d.runner.release(rec.target);
      return notPending(cmd, rec);
    }
    return recordAnswer(await this.#d.runner.approve(rec, by, origin), cmd.action, id);
  }

  /** Chooses the action `Approve selected` / `Reject selected` act on; approvers only. */
  #select(req: Req): Promise<Answer> {
    const { store, approvers, selection } = this.#d;
    return selectCommand(req.cmd, req.from.sender, {
      ...{ store, approvers, selection },
      audit: (outcome, message) => this.#audit(this.#entry(req, 'selection', outcome, message)),
    });
  }

  async #control(req: Req): Promise<Answer> {
    const { cmd, from } = req;
    const invalid = this.#d.controls.validate(cmd);
    if (invalid) return invalid;
    const decision = await this.#decide(req);
    if (cmd.dryRun) return decisionAnswer(cmd, decision, true, this.#d.clock.now());
    if (decision.verdict === 'deny')
      return decisionAnswer(cmd, decision, false, this.#d.clock.now());
    if (decision.verdict === 'approve') {
      const msg = `${decision.message}: ${cmd.action} takes effect at once and cannot wait for approval`;
      return errorAnswer(cmd.action, cmd.id ?? null, commandError('denied', 'action', msg), {
        target: cmd.target,
      });
    }
    const answer = this.#d.controls.apply(cmd, whoOf(from));
    await this.#audit(
      this.#entry(req, cmd.action as NewAuditEntry['kind'], 'applied', answer.message),
    );
    return answer;
  }

  /** The policy's decision, audited before anything acts on it. */
  async #decide(req: Req): Promise<Decision> {
    const { cmd, from } = req;
    const decision = this.#d.decide({
      action: cmd.action,
      target: cmd.target,
      origin: from.origin,
      automatic: from.origin === 'self_heal',
      ...(from.sender !== undefined ? { sender: from.sender } : {}),
    });
    await this.#audit({
      ...this.#entry(req, 'decision', decision.verdict, decision.message),
      detail: {
        code: decision.code,
        rule: decision.rule,
        dry_run: cmd.dryRun,
        trail: decision.trail,
      },
    });
    return decision;
  }

  #entry(
    { cmd, from, actionId }: Req,
    kind: NewAuditEntry['kind'],
    outcome: string,
    message?: string,
  ): NewAuditEntry {
    const detail = {
      ...(cmd.reason !== undefined ? { reason: cmd.reason } : {}),
      // What the payload said about its sender: recorded, never believed.
      ...(cmd.requestedBy !== undefined ? { claimed_by: cmd.requestedBy } : {}),
      // How the action was named, when not by its id (`Approve oldest` / `selected`).
      ...(cmd.pick !== undefined ? { pick: cmd.pick } : {}),
      ...(cmd.option !== undefined ? { option: cmd.option } : {}),
    };
    return {
      kind,
      who: whoOf(from),
      origin: from.origin,
      action: cmd.action,
      // Empty only while a pick or an option is not found (no target was ever named).
      target: cmd.target === '' ? null : cmd.target,
      command_id: cmd.id ?? null,
      action_id: actionId,
      outcome,
      ...(message !== undefined ? { message } : {}),
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    };
  }

  #audit(entry: NewAuditEntry): Promise<void> {
    return this.#d.audit.append(entry);
  }
}

/** Where a command came from, and who the channel says sent it. */
interface From {
  readonly origin: Origin;
  readonly sender: string | undefined;
}

/** One command being handled: what, from whom, and the id of the action it makes or names. */
interface Req {
  readonly cmd: Command;
  readonly from: From;
  readonly actionId: string | null;
}

/** The action id a command names itself: its client id for an exec action, else its target. */
function namedActionId(cmd: Command): string | null {
  if (isExecAction(cmd.action)) return cmd.id ?? null;
  const names = cmd.action === 'approve' || cmd.action === 'reject' || cmd.action === 'select';
  return names && cmd.target !== '' ? cmd.target : null;
}

/** The audit's `who`: the channel's identity; `unverified` where the channel has none. */
function whoOf(from: From): string {
  if (from.sender !== undefined) return from.sender;
  return from.origin === 'mqtt' ? UNVERIFIED : from.origin;
}
