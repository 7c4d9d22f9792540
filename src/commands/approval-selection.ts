import type { ActionStore } from './action-store.js';
import { approvalOption, NO_SELECTION, oldestFirst, type ActionRecord } from './actions.js';
import {
  commandError,
  errorAnswer,
  type Answer,
  type Command,
  type CommandError,
} from './command.js';
import { excerpt } from './payloads.js';
import { selectionRefusal, type Approvers } from './policy/approvers.js';

/**
 * The pending action chosen in Home Assistant's select of pending actions (issue 14): what
 * `approve` / `reject` with `selected: true` act on. One choice per agent, kept in memory
 * (after a restart nothing is chosen); a choice whose action was decided meanwhile stays,
 * so pressing `Approve selected` then says what became of it.
 */
export class ApprovalSelection {
  #current: string | undefined;
  readonly #changed: () => void;

  /** `changed` runs after every choice, to publish it. */
  constructor(changed: () => void) {
    this.#changed = changed;
  }

  /** The chosen action's id, if any. */
  get id(): string | undefined {
    return this.#current;
  }

  /** Chooses an action by id, or nothing. */
  choose(id: string | undefined): void {
    this.#current = id;
    this.#changed();
  }
}

/** A command with its target found, or why it has none. */
export type Resolved =
  | { readonly ok: true; readonly cmd: Command }
  | { readonly ok: false; readonly error: CommandError };

/**
 * The action an `approve` / `reject` with a pick, or a `select` with an option, means as
 * the command arrives: its target becomes that action's id (empty for "choose nothing").
 * Other commands come back as they are. `pending` is the actions awaiting approval.
 */
export function resolveTarget(
  cmd: Command,
  pending: readonly ActionRecord[],
  selection: ApprovalSelection,
): Resolved {
  const found = (target: string): Resolved => ({ ok: true, cmd: { ...cmd, target } });
  if (cmd.pick === 'oldest') {
    const oldest = oldestFirst(pending)[0];
    if (oldest) return found(oldest.id);
    return { ok: false, error: commandError('not_found', 'oldest', 'no action is pending') };
  }
  if (cmd.pick === 'selected') {
    const id = selection.id;
    if (id !== undefined) return found(id);
    const msg = `no action is selected: choose one of the ${pending.length} pending in the select first`;
    return { ok: false, error: commandError('not_found', 'selected', msg) };
  }
  if (cmd.option === undefined) return { ok: true, cmd };
  if (cmd.option === NO_SELECTION) return found('');
  const chosen = pending.find((r) => approvalOption(r) === cmd.option);
  if (chosen) return found(chosen.id);
  const listed = oldestFirst(pending)
    .slice(0, 5)
    .map((r) => JSON.stringify(approvalOption(r)));
  const more = pending.length > 5 ? `, … (${pending.length} pending)` : '';
  const known = listed.length > 0 ? `pending: ${listed.join(', ')}${more}` : 'none is pending';
  const msg = `no pending action is listed as ${excerpt(cmd.option, 120)} (${known})`;
  return { ok: false, error: commandError('not_found', 'option', msg) };
}

/** What a `select` command needs; `audit` writes its `selection` line (awaited first). */
export interface SelectDeps {
  readonly store: Pick<ActionStore, 'get'>;
  readonly approvers: Approvers;
  readonly selection: ApprovalSelection;
  audit(outcome: string, message: string): Promise<void>;
}

/**
 * A `select` whose target was found (resolveTarget): chooses a pending action, or nothing
 * for an empty target. Only approvers may choose; anyone else is refused and audited.
 * `sender` is the channel's identity, never the payload's claim.
 */
export async function selectCommand(
  cmd: Command,
  sender: string | undefined,
  d: SelectDeps,
): Promise<Answer> {
  const id = cmd.id ?? null;
  const rec = cmd.target === '' ? undefined : d.store.get(cmd.target);
  if (cmd.target !== '' && rec?.status !== 'pending') {
    const msg = rec ? `action ${rec.id} is ${rec.status}, not pending` : `no action ${cmd.target}`;
    const code = rec ? 'not_pending' : 'not_found';
    return errorAnswer(cmd.action, id, commandError(code, 'target', msg));
  }
  const refusal = selectionRefusal(sender, d.approvers);
  if (refusal !== undefined) {
    await d.audit('refused', refusal);
    return errorAnswer(cmd.action, id, commandError('not_allowed', 'target', refusal));
  }
  const message = rec ? `selected ${approvalOption(rec)}` : 'no action selected';
  const shown = rec ? { target: rec.id, action_id: rec.id, status: rec.status } : {};
  const base = { ok: true, id, action: cmd.action, ...shown };
  if (cmd.dryRun) return { ...base, dry_run: true, message: `dry run: ${message}` };
  await d.audit(rec ? 'selected' : 'cleared', message);
  d.selection.choose(rec?.id);
  return { ...base, message };
}
