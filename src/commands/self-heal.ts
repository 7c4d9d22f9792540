import type { Clock, TimerHandle } from '../core/clock.js';
import type { NewEvent } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ContainerView } from '../state/container-view.js';
import type { ActionRecord } from './actions.js';
import type { Answer, Command, Origin } from './command.js';
import type { FlapDetector } from './flap-detector.js';
import { selfHealMode, type PolicyRule } from './policy/index.js';
import { flapEvent } from './remediation-events.js';
import type { RestartBudgets } from './restart-budget.js';

/** Refusals that say "not now": looked at again after `recheckMs`. */
const RECHECK: ReadonlySet<string> = new Set([
  'suppressed',
  'flapping',
  'busy',
  'storage_full',
  'storage_unavailable',
]);

export interface SelfHealDeps {
  rules: readonly PolicyRule[];
  submit(cmd: Command, origin: Origin): Promise<Answer>;
  pendingFor(target: string, action: 'restart_container'): ActionRecord | undefined;
  budgets: RestartBudgets;
  flaps: FlapDetector;
  clock: Clock;
  log: Logger;
  record(event: NewEvent): void;
  /** A container down this long (`containers.down_after`) is acted on. */
  downAfterMs: number;
  /** How often a target held back by maintenance or flapping is looked at again. */
  recheckMs?: number;
}

/** What the feeds say about a container target (`<host>/<name>`). */
export interface TargetObservation {
  readonly up: boolean;
  /** The tracker has an open `down` alert: the threshold has passed. */
  readonly alertDown?: boolean;
  readonly unhealthy?: boolean;
}

interface TargetState {
  up?: boolean;
  downSince?: number;
  alertDown: boolean;
  timer?: TimerHandle;
  settleTimer?: TimerHandle;
  busy: boolean;
  /** The last restart worked: a new failure within its grace period is not acted on. */
  restarted: boolean;
}

/**
 * The self-healing loop, per target in the mode its `policy[]` rule gives (off / ask /
 * auto). A container that stays down past its threshold gets a restart command from
 * origin `self_heal`; the policy decides like for anyone else (ask → pending and notify,
 * auto → run within the budget; suppression and flapping stop it). The loop also counts
 * state changes for flap detection and reports health to the restart budget.
 */
export class SelfHeal {
  readonly #d: SelfHealDeps;
  readonly #targets = new Map<string, TargetState>();
  /** `<host>/<key>` → `<host>/<name>`: the tracker forgets by key, policy targets are names. */
  readonly #byKey = new Map<string, string>();

  constructor(deps: SelfHealDeps) {
    this.#d = deps;
  }

  /**
   * The tracker's view feed, with the tracker's own `onContainer` signature: every change
   * of a container's state or alert; `undefined` when the container is gone; `first` for
   * its first view.
   */
  onContainer(host: string, key: string, view: ContainerView | undefined, first = false): void {
    const id = `${host}/${key}`;
    if (!view) {
      const target = this.#byKey.get(id);
      this.#byKey.delete(id);
      if (target !== undefined) this.forget(target);
      return;
    }
    const o = view.observation;
    const target = `${host}/${o.name}`;
    // Known before the observation, so a flap it starts names the container's subject.
    this.#byKey.set(id, target);
    this.observe(
      target,
      {
        up: o.state === 'running',
        alertDown: view.alert === 'down',
        unhealthy: o.health === 'unhealthy',
      },
      first,
    );
    // Only a target with state needs its key: to forget it when the container goes.
    if (this.#targets.has(target)) this.#byKey.set(id, target);
    else this.#byKey.delete(id);
  }

  /** The tracker's transition feed (container_down / container_recovered events). */
  onEvent(e: NewEvent): void {
    const host = e.data?.host;
    const name = e.data?.name;
    if (typeof host !== 'string' || typeof name !== 'string') return;
    const target = `${host}/${name}`;
    if (e.type === 'container_down') this.observe(target, { up: false, alertDown: true });
    else if (e.type === 'container_recovered') this.observe(target, { up: true });
  }

  /**
   * A target that is up with nothing pending keeps no state here (a site has thousands):
   * state is made when it goes down and dropped when it is back at rest.
   */
  observe(target: string, obs: TargetObservation, first = false): void {
    const now = this.#d.clock.now();
    const { budgets, flaps } = this.#d;
    const change = flaps.record(target, obs.up, now, !budgets.inGrace(target, now), first);
    if (change) this.#flapChanged(target, change, now);
    if (obs.up && !obs.unhealthy) budgets.healthy(target, now);
    else budgets.unhealthy(target);
    if (obs.up) {
      const t = this.#targets.get(target);
      if (!t) return;
      t.up = true;
      t.alertDown = false;
      t.downSince = undefined;
      this.#cancel(t);
      if (!t.busy && !t.settleTimer && !(t.restarted && budgets.inGrace(target, now))) {
        this.#targets.delete(target);
      }
      return;
    }
    const t = this.#state(target);
    t.up = false;
    t.alertDown = obs.alertDown === true;
    t.downSince ??= now;
    this.#schedule(target, t.alertDown ? now : t.downSince + this.#d.downAfterMs);
  }

  /** How many targets have state here (down, or something pending). */
  get tracked(): number {
    return this.#targets.size;
  }

  forget(target: string): void {
    const t = this.#targets.get(target);
    if (!t) return;
    this.#cancel(t);
    if (t.settleTimer) this.#d.clock.clearTimeout(t.settleTimer);
    this.#targets.delete(target);
  }

  stop(): void {
    for (const target of [...this.#targets.keys()]) this.forget(target);
  }

  #evaluate(target: string): void {
    const t = this.#targets.get(target);
    if (!t || t.up !== false || t.busy) return;
    const { clock, budgets } = this.#d;
    const now = clock.now();
    if (selfHealMode(this.#d.rules, target) === 'off') return;
    const due = t.alertDown ? now : (t.downSince ?? now) + this.#d.downAfterMs;
    const graceEnd = t.restarted ? budgets.graceEnds(target, now) : undefined;
    if (due > now || graceEnd !== undefined)
      return this.#schedule(target, Math.max(due, graceEnd ?? 0));
    if (this.#d.pendingFor(target, 'restart_container')) return; // a human is already asked
    t.busy = true;
    const since = new Date(t.downSince ?? now).toISOString();
    this.#d.log.info({ target, since }, `self-healing: restarting ${target}, down since ${since}`);
    const cmd: Command = {
      action: 'restart_container',
      target,
      args: {},
      dryRun: false,
      requestedBy: 'self-heal',
      reason: `down since ${since}`,
    };
    this.#d.submit(cmd, 'self_heal').then(
      (answer) => this.#after(target, answer),
      (err: unknown) => {
        t.busy = false;
        this.#d.log.error({ target, err: errorMessage(err) }, 'self-healing restart failed');
      },
    );
  }

  /** What to do next, from the answer: look again after the grace or backoff, or stop. */
  #after(target: string, a: Answer): void {
    const t = this.#targets.get(target);
    if (!t) return;
    t.busy = false;
    const now = this.#d.clock.now();
    const code = a.error?.code;
    if (a.error) {
      // Refused before anything ran: no event says so, the log does.
      const next =
        code === 'backoff' || code === 'suppressed' || code === 'flapping' || code === 'busy';
      this.#d.log.info(
        { target, code },
        `self-healing: ${target} not restarted: ${a.error.message}${next ? '; trying again later' : ''}`,
      );
    }
    if (a.status === 'pending' || code === 'not_allowed' || code === 'denied') return;
    if (code === 'backoff' && a.retry_after_s !== undefined) {
      return this.#schedule(target, now + a.retry_after_s * 1000);
    }
    // A refusal for a full disk is not a failed restart (nothing ran): look again later.
    if (code !== undefined && RECHECK.has(code)) {
      return this.#schedule(target, now + (this.#d.recheckMs ?? 60_000));
    }
    // Ran: after a failure try again when the backoff allows; after a success look again
    // when the grace period is over (a failure within it is not counted).
    const { budgets } = this.#d;
    t.restarted = a.status === 'completed';
    const next = t.restarted ? budgets.graceEnds(target, now) : budgets.nextAllowedAt(target, now);
    this.#schedule(target, next ?? now);
  }

  /** Resumes watching targets a restored flap state says are flapping (after a restart). */
  resume(): void {
    for (const target of this.#d.flaps.flappingTargets()) this.#watchSettle(target);
  }

  #flapChanged(target: string, change: 'started' | 'settled', now: number): void {
    this.#d.record(flapEvent(target, change, now, this.#subjectOf(target)));
    const t = this.#state(target);
    if (t.settleTimer) this.#d.clock.clearTimeout(t.settleTimer);
    t.settleTimer = undefined;
    if (change === 'started') this.#watchSettle(target);
  }

  #watchSettle(target: string): void {
    const t = this.#state(target);
    const at = this.#d.flaps.settlesAt(target);
    if (at === undefined) return;
    const { clock } = this.#d;
    t.settleTimer = clock.setTimeout(
      () => {
        t.settleTimer = undefined;
        const now = clock.now();
        const change = this.#d.flaps.check(target, now);
        if (change === 'settled') {
          this.#d.record(flapEvent(target, 'settled', now, this.#subjectOf(target)));
          this.#evaluate(target);
        } else {
          this.#watchSettle(target);
        }
      },
      Math.max(0, at - clock.now()),
    );
  }

  /**
   * The container's subject (`<host>/<key>`, as the tracker's events and its incident name
   * it) for a policy target (`<host>/<name>`): they differ for compose services.
   */
  #subjectOf(target: string): string {
    for (const [id, t] of this.#byKey) if (t === target) return id;
    return target;
  }

  #schedule(target: string, at: number): void {
    const t = this.#state(target);
    this.#cancel(t);
    const { clock } = this.#d;
    t.timer = clock.setTimeout(
      () => {
        t.timer = undefined;
        this.#evaluate(target);
      },
      Math.max(0, at - clock.now()),
    );
  }

  #cancel(t: TargetState): void {
    if (t.timer) this.#d.clock.clearTimeout(t.timer);
    t.timer = undefined;
  }

  #state(target: string): TargetState {
    let t = this.#targets.get(target);
    if (!t) {
      t = { alertDown: false, busy: false, restarted: false };
      this.#targets.set(target, t);
    }
    return t;
  }
}
