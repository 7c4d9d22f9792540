import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { IncidentRef, NewEvent } from '../core/events.js';
import { errorMessage } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { TopicRoot } from '../core/topics.js';
import type { MessageSource, MqttPublisher } from '../mqtt/types.js';
import type { AgentBus, AgentEvents } from '../state/bus-events.js';
import type { ContainerView } from '../state/container-view.js';
import { incidentRef, type Incidents } from '../state/incidents.js';
import { ulidGenerator } from '../store/ulid.js';
import { ActionRunner } from './action-runner.js';
import type { ActionStore } from './action-store.js';
import type { ActionRecord } from './actions.js';
import { ApprovalSelection } from './approval-selection.js';
import { AUDIT_FILE, AuditLog, auditLimits } from './audit.js';
import type { Answer } from './command.js';
import { ControlCommands, SUPPRESSIONS_FILE } from './control.js';
import { ExecutorRegistry } from './executors/registry.js';
import type { Executor } from './executors/types.js';
import { ACTIONS_FILE, FileActionStore } from './file-action-store.js';
import { offersRestart } from './policy/index.js';
import { policyState, runnerSettings } from './policy-state.js';
import { RemediationPublisher } from './publisher.js';
import { CommandRateLimiter } from './rate-limit/limiter.js';
import { burstAuditEntry, logBurst } from './rate-limit/report.js';
import { rateLimitSettings } from './rate-limit/settings.js';
import { CommandRouter } from './router.js';
import { SelfHeal } from './self-heal.js';
import { DiskCleanupOffer } from './disk-cleanup-offer.js';
import { CommandService } from './service.js';
import { hostOf, type Suppressions } from './suppressions.js';

/** Alerts that maintenance, silences and the quiet after a planned restart hold back. */
const SUPPRESSIBLE: ReadonlySet<string> = new Set([
  'container_down',
  'container_unhealthy',
  'container_recovered',
  'container_flapping',
  'container_settled',
  'host_unreachable',
  'host_reachable',
]);

/** What the Home Assistant websocket bridge (Telegram callbacks) calls to decide. */
export interface RemediationApi {
  approve(actionId: string, by: string, reason?: string): Promise<Answer>;
  reject(actionId: string, by: string, reason?: string): Promise<Answer>;
  pending(): ActionRecord[];
}

export interface RemediationDeps {
  config: Pick<
    Config,
    'data_dir' | 'hosts' | 'policy' | 'remediation' | 'containers' | 'mqtt' | 'disks'
  >;
  root: TopicRoot;
  mqtt: MqttPublisher;
  clock: Clock;
  log: Logger;
  /** Where remediation events go: the event store. */
  record(event: NewEvent): void;
  /**
   * Where commands come from: the embedded broker itself (each message with its sender's
   * login) or, by default, the MQTT connection (an external broker: no sender).
   */
  commands?: MessageSource;
  /** Executors by action; actions without one answer `not_available`. */
  executors: readonly Executor[];
  /** The action store; default `<data_dir>/actions.jsonl`. */
  store?: ActionStore;
  /**
   * The agent's bus: remediation hears capabilities' events and container views on it
   * (self-healing, flap detection) and announces when the actions awaiting approval
   * changed (HA's approve buttons follow).
   */
  bus?: AgentBus;
  /** Jitter source of the restart backoff (tests fix it). */
  random?: () => number;
  /**
   * The agent's open incidents: remediation's events carry the incident of their target,
   * and flapping is a warning inside the container's incident (opening one if none is).
   */
  incidents?: Incidents;
}

/**
 * Remediation, wired (issue 6): the MQTT command router, the policy, the action store and
 * runner, the executors, the audit log and the self-healing loop, as one component with
 * the usual start / stop. main.ts builds it with `Remediation.create`; it hears the container
 * tracker's transitions on the agent's bus.
 */
export class Remediation implements Component {
  readonly name = 'remediation';
  readonly api: RemediationApi;
  readonly service: CommandService;
  readonly router: CommandRouter;
  readonly selfHeal: SelfHeal;
  /** `disks.cleanup_on_critical`: a critical mount is offered a cleanup. */
  readonly #diskOffer: DiskCleanupOffer | undefined;
  readonly #d: RemediationDeps;
  readonly #store: ActionStore;
  readonly #audit: AuditLog;
  readonly #runner: ActionRunner;
  readonly #controls: ControlCommands;
  readonly #executors: ExecutorRegistry;
  readonly #suppressions: Suppressions;
  readonly #limiter: CommandRateLimiter;

  private constructor(deps: RemediationDeps, store: ActionStore) {
    const { config, clock } = deps;
    const log = deps.log.child({ component: 'remediation' });
    this.#d = deps;
    this.#store = store;
    this.#audit = new AuditLog(join(config.data_dir, AUDIT_FILE), clock, {
      limits: auditLimits(config.remediation.audit),
      log,
    });
    this.#executors = new ExecutorRegistry(deps.executors);
    const ps = policyState(config, clock, log, deps.random);
    this.#suppressions = ps.suppressions;
    // A new choice in the select is published with the pending summary it belongs to.
    const selection = new ApprovalSelection(() => publisher.pending(store.list()));
    const publisher = new RemediationPublisher(
      deps.mqtt,
      deps.root,
      log,
      () => deps.bus?.emit('observed', { complete: false }),
      () => selection.id,
    );
    const file = join(config.data_dir, SUPPRESSIONS_FILE);
    const hosts = config.hosts.map((h) => h.id);
    this.#controls = new ControlCommands(
      { hosts, budgets: ps.budgets, flaps: ps.flaps, publisher, clock, log, file },
      ps.suppressions,
    );
    this.#runner = new ActionRunner({
      ...{ store, executors: this.#executors, audit: this.#audit, publisher, clock, log },
      ...{ budgets: ps.budgets, suppressions: ps.suppressions, decide: ps.decide },
      record: (e) => deps.record(this.#withIncident(e)),
      announce: (step) => deps.bus?.emit('action', step),
      settings: runnerSettings(config.remediation),
    });
    const newId = ulidGenerator();
    this.service = new CommandService({
      ...{ runner: this.#runner, controls: this.#controls, executors: this.#executors, store },
      ...{ audit: this.#audit, decide: ps.decide, clock, log },
      newId: () => newId(clock.now()),
      approvers: { names: config.remediation.approvers, rules: config.policy },
      selection,
    });
    this.api = {
      approve: (id, by, reason) => this.service.approve(id, by, reason),
      reject: (id, by, reason) => this.service.reject(id, by, reason),
      pending: () => this.service.pending(),
    };
    const { mqtt, root } = deps;
    const discoveryPrefix = config.mqtt.discovery_prefix;
    this.#limiter = this.#rateLimiter(log);
    this.router = new CommandRouter({
      mqtt,
      source: deps.commands ?? mqtt,
      root,
      service: this.service,
      publisher,
      discoveryPrefix,
      limiter: this.#limiter,
      log,
    });
    this.selfHeal = new SelfHeal({
      rules: config.policy,
      // Self-healing's own commands name it as their sender: an in-process channel.
      submit: (cmd, origin) => this.service.submit(cmd, origin, cmd.requestedBy),
      pendingFor: (target, action) => this.#runner.pendingFor(target, action),
      ...{ budgets: ps.budgets, flaps: ps.flaps, clock, log },
      record: (e) => {
        const kept = this.filterAlert(e);
        if (kept) deps.record(this.#withIncident(kept));
      },
      downAfterMs: config.containers.down_after,
    });
    this.#diskOffer = config.disks?.cleanup_on_critical
      ? new DiskCleanupOffer({
          submit: (cmd, origin) => this.service.submit(cmd, origin, cmd.requestedBy),
          log,
        })
      : undefined;
    deps.bus?.on(this.name, 'event', (e) => this.onTrackerEvent(e));
    deps.bus?.on(this.name, 'container', (c) => this.onContainer(c.host, c.key, c.view, c.first));
    deps.bus?.on(this.name, 'decision', (d) => this.#decision(d));
  }

  /** A decision from the Home Assistant bridge, with its channel's identity (issue 18). */
  #decision(d: AgentEvents['decision']): void {
    const run =
      d.verdict === 'approve'
        ? this.service.approve(d.actionId, d.by)
        : this.service.reject(d.actionId, d.by);
    run.then(
      (a) =>
        d.answer({
          ok: a.ok,
          ...(a.status !== undefined ? { status: a.status } : {}),
          ...(a.error ? { code: a.error.code } : {}),
          message: a.error?.message ?? a.message ?? `${d.verdict}d`,
        }),
      (err: unknown) => d.answer({ ok: false, code: 'internal', message: errorMessage(err) }),
    );
  }

  /** Opens the action store (unless one is given) and builds everything. */
  static async create(deps: RemediationDeps): Promise<Remediation> {
    const store =
      deps.store ??
      (await FileActionStore.open(join(deps.config.data_dir, ACTIONS_FILE), { log: deps.log }));
    return new Remediation(deps, store);
  }

  async start(): Promise<void> {
    this.#audit.open();
    for (const e of this.#executors.all) {
      // Not awaited: an SSH host that is down must not hold the agent's start; its
      // connection keeps retrying, and actions on it fail until it is back.
      void e.start?.().catch((err: unknown) => {
        this.#d.log.warn({ executor: e.name, err: errorMessage(err) }, 'executor did not start');
      });
    }
    await this.#runner.restore();
    this.selfHeal.resume();
    this.#controls.start();
    await this.router.start();
  }

  async stop(): Promise<void> {
    this.#d.bus?.removeAll(this.name);
    await this.router.stop();
    this.#limiter.stop(); // its last counts go to the audit before it closes
    this.selfHeal.stop();
    this.#runner.stop();
    this.#controls.stop();
    for (const e of this.#executors.all) await e.stop?.().catch(() => undefined);
    await this.#audit.close();
    await this.#store.close();
  }

  /** Per-client command limits; each burst of refusals is audited, not each refusal. */
  #rateLimiter(log: Logger): CommandRateLimiter {
    const settings = rateLimitSettings(this.#d.config.remediation.rate_limit);
    return new CommandRateLimiter({
      settings,
      clock: this.#d.clock,
      report: (r) => {
        logBurst(log, r);
        this.#audit.append(burstAuditEntry(r, settings)).catch((err: unknown) => {
          log.warn({ err: errorMessage(err), total: r.total }, 'rate-limit audit line not written');
        });
      },
    });
  }

  /** The tracker's `onContainer` feed: flap detection and self-healing. */
  onContainer(host: string, key: string, view: ContainerView | undefined, first = false): void {
    this.selfHeal.onContainer(host, key, view, first);
    // Gone: no settling will be seen, and a flapping-only incident would stay open for ever.
    if (!view) this.#d.incidents?.clear('container', `${host}/${key}`, 'flapping');
  }

  /**
   * The event with its target's incident (issue #14): flapping raises a warning inside the
   * container's incident (or opens one), settling clears it; every other event of
   * remediation names the open incident of its target, if there is one.
   */
  #withIncident(e: NewEvent): NewEvent {
    const book = this.#d.incidents;
    if (!book) return e;
    const at = typeof e.ts === 'number' ? e.ts : this.#d.clock.now();
    let ref: IncidentRef | undefined;
    if (e.type === 'container_flapping') {
      const target = typeof e.data?.target === 'string' ? e.data.target : e.subject;
      const { incident } = book.raise(e.subject, 'flapping', e.severity, at, {
        kind: 'container',
        target,
      });
      ref = incidentRef(incident, at, 'open');
    } else if (e.type === 'container_settled') {
      const r = book.clear('container', e.subject, 'flapping');
      ref = r && incidentRef(r.incident, at, r.closed ? 'closed' : 'open');
    } else {
      const open = book.find(e.subject);
      ref = open && incidentRef(open, at, 'open');
    }
    return ref ? { ...e, data: { ...e.data, incident: ref } } : e;
  }

  /** The tracker's transitions (container_down / container_recovered) for self-healing. */
  onTrackerEvent(event: NewEvent): void {
    this.selfHeal.onEvent(event);
    this.#diskOffer?.onEvent(event);
  }

  /**
   * The alert as it should be recorded, or undefined while its target is in maintenance,
   * silenced, or within the quiet time after a planned restart (issue 6: no alerts then).
   */
  filterAlert(event: NewEvent): NewEvent | undefined {
    if (!SUPPRESSIBLE.has(event.type)) return event;
    const host = typeof event.data?.host === 'string' ? event.data.host : hostOf(event.subject);
    const name = typeof event.data?.name === 'string' ? event.data.name : undefined;
    const target = name === undefined ? host : `${host}/${name}`;
    const why = this.#suppressions.reason(target, this.#d.clock.now());
    if (why === undefined) return event;
    this.#d.log.debug({ type: event.type, subject: event.subject, why }, 'alert suppressed');
    return undefined;
  }

  /** Whether the policy could ever let a restart of this container through (HA button). */
  offersRestart(host: string, name: string): boolean {
    return offersRestart(this.#d.config.policy, host, name);
  }
}
