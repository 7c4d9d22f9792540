import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { NewEvent } from '../../src/core/events.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import { spokenDuration } from '../../src/core/spoken-duration.js';
import { incidentRef, type Incidents } from '../../src/state/incidents.js';
import {
  failedIntegrations,
  parseConfigEntries,
  parseRegistry,
  parseStates,
  unavailableEntities,
  updatesAvailable,
  type UnavailableRules,
} from './checks.js';
import type { HomeAssistantConfig } from './config.js';
import {
  HA_CHECKS,
  checkSubject,
  problemEvent,
  recoveryEvent,
  type Finding,
  type HaCheck,
} from './health-events.js';
import type { HaLink, LinkState } from './link.js';
import type { RestartWindow } from './restart-window.js';

/** The incident kind of Home Assistant's own health (src/state/incidents.ts). */
export const HA_INCIDENT_KIND = 'home_assistant';

export interface HealthWatchOptions {
  readonly link: HaLink;
  readonly config: HomeAssistantConfig;
  readonly incidents: Incidents;
  readonly restart: RestartWindow;
  /** Re-alert of an open incident at most this often. */
  readonly cooldownMs: number;
  /** Whether HA's host answers (host-probe.ts). */
  hostAnswers(): Promise<boolean>;
  /** Where its events go: the agent's bus. */
  emit(e: NewEvent): void;
  /** What the last round found, for the retained state. */
  onFindings(f: Partial<Record<HaCheck, Finding>>): void;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * Watches Home Assistant's health every `check_every` (issue 18, point 2): its websocket
 * dead or silent for `dead_after` while its host answers, the token refused, integrations
 * that failed to load, entities unavailable too long, updates available. Each check is a
 * subject of its own incident; nothing is raised while HA restarts on purpose.
 */
export class HealthWatch implements Component {
  readonly name = 'home-assistant-health';
  readonly #o: HealthWatchOptions;
  #timer: TimerHandle | undefined;
  #downSince: number | undefined;
  /** The outage (its `#downSince`) already logged as held back by a planned restart. */
  #heldBack: number | undefined;
  #running = false;
  #busy = false;

  constructor(o: HealthWatchOptions) {
    this.#o = o;
  }

  start(): Promise<void> {
    this.#running = true;
    this.#downSince = this.#o.clock.now();
    this.#schedule();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** The link changed status. */
  linkChanged(s: LinkState): void {
    const now = this.#o.clock.now();
    if (s.status === 'connected') {
      this.#downSince = undefined;
      this.#o.restart.started(now);
      this.#report('websocket', undefined, now);
      this.#report('auth', undefined, now);
      void this.check();
    } else if (s.status === 'auth_failed') {
      this.#report('auth', { count: 1, names: [] }, now);
    } else if (s.status !== 'stopped') {
      this.#downSince ??= now;
    }
  }

  /** One round of every check; a round still running is not started again. */
  async check(): Promise<void> {
    if (this.#busy || !this.#running) return;
    this.#busy = true;
    try {
      await this.#websocket();
      if (this.#o.link.connected && !this.#o.restart.active(this.#o.clock.now())) {
        await this.#haChecks();
      }
    } catch (err) {
      this.#o.log.warn({ err: errorMessage(err) }, 'Home Assistant health check failed');
    } finally {
      this.#busy = false;
    }
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.check().finally(() => this.#schedule());
    }, this.#o.config.check_every);
  }

  async #websocket(): Promise<void> {
    const now = this.#o.clock.now();
    const since = this.#downSince;
    const status = this.#o.link.state.status;
    if (since === undefined || status === 'auth_failed' || status === 'stopped') return;
    const downFor = now - since;
    if (downFor < this.#o.config.dead_after) return;
    if (this.#o.restart.active(now)) {
      // Said once per outage: why nobody was told, for whoever reads the log afterwards.
      if (this.#heldBack !== since) {
        this.#heldBack = since;
        this.#o.log.info(
          { down_ms: downFor },
          `Home Assistant has not answered for ${spokenDuration(downFor)}, but it is restarting on purpose: no alert`,
        );
      }
      return;
    }
    if (!(await this.#o.hostAnswers())) return;
    // Connected again while the host was probed: nothing to say any more.
    if (this.#downSince !== since) return;
    const why = this.#o.link.state.lastError;
    this.#report('websocket', { count: 1, names: why ? [why] : [] }, now, downFor);
  }

  async #haChecks(): Promise<void> {
    const { link, config } = this.#o;
    const max = config.offline.max_listed;
    const findings: Partial<Record<HaCheck, Finding>> = {};
    const entries = await this.#ask('config_entries/get', parseConfigEntries);
    if (entries) findings.integrations = failedIntegrations(entries, max);
    const states = await this.#ask('get_states', parseStates);
    if (states) {
      const u = config.offline;
      // The registry is asked only when integrations select entities: it can be large.
      const registry =
        u.integrations.length > 0
          ? await this.#ask('config/entity_registry/list', parseRegistry)
          : [];
      const rules: UnavailableRules = {
        afterMs: u.after,
        domains: u.domains,
        integrations: u.integrations,
        entities: u.entities,
        maxListed: max,
      };
      if (registry) {
        findings.unavailable = unavailableEntities(states, registry, rules, this.#o.clock.now());
      }
      findings.updates = updatesAvailable(states, max);
    }
    // A restart announced while the round ran: what it saw is HA going down, not broken.
    if (!link.connected || this.#o.restart.active(this.#o.clock.now())) return;
    const now = this.#o.clock.now();
    for (const [check, f] of Object.entries(findings) as [HaCheck, Finding][]) {
      this.#report(check, f.count > 0 ? f : undefined, now);
    }
    this.#o.onFindings(findings);
  }

  /** One command, its answer parsed; undefined (logged) when HA failed or answered nonsense. */
  async #ask<T>(
    type: string,
    parse: (v: unknown) => { items: T[]; malformed: number },
  ): Promise<T[] | undefined> {
    try {
      const { items, malformed } = parse(await this.#o.link.call({ type }));
      if (malformed > 0) {
        this.#o.log.warn(
          { command: type, malformed },
          `Home Assistant answered ${type} with entries of an unexpected shape: skipped`,
        );
      }
      return items;
    } catch (err) {
      this.#o.log.warn({ command: type, err: errorMessage(err) }, 'Home Assistant check failed');
      return undefined;
    }
  }

  /** A check's finding (undefined: all well) into its incident: opened, re-alerted, closed. */
  #report(check: HaCheck, f: Finding | undefined, now: number, downForMs = 0): void {
    const book = this.#o.incidents;
    const subject = checkSubject(check);
    const open = book.get(HA_INCIDENT_KIND, subject);
    if (!f) {
      if (!open) return;
      book.close(HA_INCIDENT_KIND, subject);
      const e = recoveryEvent(check, now, now - open.openedAt);
      this.#emit(e, incidentRef(open, now, 'closed'));
      return;
    }
    if (open && now - open.lastAlertAt < this.#o.cooldownMs) return;
    const { incident } = book.raise(subject, check, HA_CHECKS[check].severity, now, {
      kind: HA_INCIDENT_KIND,
    });
    this.#emit(problemEvent(check, f, now, downForMs), incidentRef(incident, now, 'open'));
  }

  #emit(e: NewEvent, incident: ReturnType<typeof incidentRef>): void {
    this.#o.emit({ ...e, data: { ...e.data, incident } });
  }
}
