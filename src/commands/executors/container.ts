import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { commandError, type CommandError, type ExecAction } from '../command.js';
import type { ContainerRef, ControlVerb, EngineControl } from './engine-control.js';
import type { ExecutionRequest, ExecutionResult, Executor } from './types.js';

export interface ContainerExecutorOptions {
  /** One engine per host id (hosts with `engine` configured). */
  controls: ReadonlyMap<string, EngineControl>;
  clock: Clock;
  /** Deadline of the engine call itself (`remediation.action_timeout`). */
  actionTimeoutMs: number;
  /** How long the container has to reach the wanted state (`remediation.verify_timeout`). */
  verifyTimeoutMs: number;
  /** Between verification looks; default 500 ms. */
  pollMs?: number;
  /** How long a (re)started container must stay up to count as running again; default 3 s. */
  settleMs?: number;
  /**
   * The container names last observed on a host, or undefined while it has not been
   * listed yet (then nothing is refused for being unknown). Without it, an unknown
   * container fails only when the action runs.
   */
  observed?: (host: string) => readonly string[] | undefined;
}

/** How many names an error lists before it says how many more there are. */
const LISTED = 20;

const VERBS: Record<string, ControlVerb> = {
  restart_container: 'restart',
  start_container: 'start',
  stop_container: 'stop',
};

const argsSchema = z.strictObject(
  {
    stop_timeout: z
      .int({ error: 'expected stop_timeout in whole seconds, 0 to 300' })
      .min(0, { error: 'expected stop_timeout in whole seconds, 0 to 300' })
      .max(300, { error: 'expected stop_timeout in whole seconds, 0 to 300' })
      .optional(),
  },
  { error: 'expected args such as { "stop_timeout": 10 }' },
);

/**
 * restart / start / stop a container through the same engine access the monitor uses
 * (engine API locally, the engine CLI over SSH), then verify: a restarted container must
 * be running again with a new start time, a started one running, a stopped one stopped.
 */
export class ContainerExecutor implements Executor {
  readonly name = 'containers';
  readonly available = true;
  readonly actions: readonly ExecAction[] = [
    'restart_container',
    'start_container',
    'stop_container',
  ];
  readonly #opts: ContainerExecutorOptions;

  constructor(opts: ContainerExecutorOptions) {
    this.#opts = opts;
  }

  validate(req: ExecutionRequest): CommandError | undefined {
    const slash = req.target.indexOf('/');
    const host = req.target.slice(0, slash);
    if (!this.#opts.controls.has(host)) {
      const known = listed([...this.#opts.controls.keys()]);
      const msg = `no host ${host} with a container engine configured (hosts with one: ${known})`;
      return commandError('not_found', 'target', msg);
    }
    // Refused now rather than parked for approval and failed after someone approved it.
    const names = this.#opts.observed?.(host);
    const name = req.target.slice(slash + 1);
    if (names !== undefined && !names.includes(name)) {
      const msg = `no container ${name} on ${host} as last observed (it has: ${listed(names)})`;
      return commandError('not_found', 'target', msg);
    }
    const parsed = argsSchema.safeParse(req.args);
    if (parsed.success) return undefined;
    const issue = parsed.error.issues[0];
    const key = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path[0];
    const field = key === undefined ? 'args' : `args.${String(key).slice(0, 64)}`;
    return commandError(
      'invalid',
      field,
      issue?.code === 'unrecognized_keys'
        ? 'unknown argument (stop_timeout)'
        : (issue?.message ?? 'invalid arguments'),
    );
  }

  async start(): Promise<void> {
    await Promise.all(
      [...this.#opts.controls.values()].map((c) => c.start?.() ?? Promise.resolve()),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.#opts.controls.values()].map((c) => c.stop?.() ?? Promise.resolve()),
    );
  }

  async run(req: ExecutionRequest): Promise<ExecutionResult> {
    const slash = req.target.indexOf('/');
    const host = req.target.slice(0, slash);
    const name = req.target.slice(slash + 1);
    const control = this.#opts.controls.get(host);
    const verb = VERBS[req.action];
    if (!control || !verb) return { ok: false, message: `cannot ${req.action} on ${host}` };
    const before = await control.find(name);
    if (!before) return { ok: false, message: `no container ${name} on ${host}` };
    // Without stop_timeout the container's own stop timeout applies (compose stop_grace_period).
    const stopTimeoutS = req.args.stop_timeout as number | undefined;
    await control.act(verb, before.id, { stopTimeoutS, timeoutMs: this.#opts.actionTimeoutMs });
    return this.#verify(control, verb, before, req.target);
  }

  /**
   * Looks until the container is where it should be: stopped; or running with a new
   * start time for `settleMs`, and healthy when it has a healthcheck. Dead again after a
   * new start, or unhealthy, fails at once; anything else fails at the deadline.
   */
  async #verify(
    control: EngineControl,
    verb: ControlVerb,
    before: ContainerRef,
    target: string,
  ): Promise<ExecutionResult> {
    const { clock, verifyTimeoutMs } = this.#opts;
    const deadline = clock.now() + verifyTimeoutMs;
    const settleMs = this.#opts.settleMs ?? 3_000;
    let last: ContainerRef = before;
    let upSince: number | undefined;
    let lastError: string | undefined;
    for (;;) {
      try {
        const now = await control.inspect(before.id);
        if (!now) return { ok: false, message: `${target} disappeared during ${verb}` };
        last = now;
        lastError = undefined;
      } catch (err) {
        lastError = errorMessage(err);
      }
      const state = judge(verb, before, last);
      if (state === 'failed') return result(false, verb, target, last);
      if (state === 'stopped') return result(true, verb, target, last);
      upSince = state === 'up' ? (upSince ?? clock.now()) : undefined;
      if (
        upSince !== undefined &&
        clock.now() - upSince >= settleMs &&
        last.health !== 'starting'
      ) {
        return result(true, verb, target, last);
      }
      if (clock.now() >= deadline) break;
      await sleep(clock, this.#opts.pollMs ?? 500);
    }
    const state =
      last.health === 'starting' ? 'still starting (healthcheck)' : `still ${last.state}`;
    const why = lastError ?? `${state} after ${Math.round(verifyTimeoutMs / 1000)} s`;
    return { ok: false, message: `${target} did not ${verb}: ${why}`, data: dataOf(last) };
  }
}

/** Names for an error message: sorted, at most LISTED of them, `none` for none. */
function listed(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const sorted = [...names].sort();
  const more = sorted.length - LISTED;
  return sorted.slice(0, LISTED).join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/** Where the container is, seen from what was asked. */
function judge(
  verb: ControlVerb,
  before: ContainerRef,
  now: ContainerRef,
): 'stopped' | 'up' | 'failed' | 'wait' {
  if (verb === 'stop') return now.running ? 'wait' : 'stopped';
  const fresh = verb === 'start' || now.startedAt !== before.startedAt;
  if (!fresh) return 'wait';
  if (now.running) return now.health === 'unhealthy' ? 'failed' : 'up';
  // Started anew and already dead again: no point waiting out the timeout.
  const dead = now.state === 'exited' || now.state === 'dead';
  return dead && now.startedAt !== before.startedAt ? 'failed' : 'wait';
}

function result(ok: boolean, verb: ControlVerb, target: string, c: ContainerRef): ExecutionResult {
  const done = { restart: 'restarted', start: 'started', stop: 'stopped' }[verb];
  const message = ok
    ? `${target} ${done}: ${c.state}${c.health === 'none' ? '' : `, ${c.health}`}`
    : c.running
      ? `${target} ${c.health} after ${verb}`
      : `${target} exited again after ${verb} (exit code ${c.exitCode})`;
  return { ok, message, data: dataOf(c) };
}

function dataOf(c: ContainerRef): Record<string, unknown> {
  return {
    container_id: c.id.slice(0, 12),
    state: c.state,
    started_at: c.startedAt,
    health: c.health,
  };
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
