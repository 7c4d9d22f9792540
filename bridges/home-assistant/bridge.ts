import { join } from 'node:path';
import type { CapabilityContext } from '../../src/capabilities/capability.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Component } from '../../src/core/lifecycle.js';
import type { Logger } from '../../src/core/logger.js';
import { topics } from '../../src/core/topics.js';
import { Approvals } from './approvals.js';
import type { HomeAssistantConfig } from './config.js';
import type { Finding, HaCheck } from './health-events.js';
import { HealthWatch } from './health-watch.js';
import { hostAnswers } from './host-probe.js';
import { HaLink, type LinkState } from './link.js';
import { Notifier } from './notify/notifier.js';
import { NOTIFY_JOURNAL_FILE, SentJournal } from './notify/sent-journal.js';
import { listenForContainerRestarts } from './restart-signals.js';
import { RestartWindow } from './restart-window.js';
import type { HaBridgeState } from './state.js';

/** Where the token comes from: the environment variable `token_env` names (tests pass theirs). */
export type TokenSource = (name: string) => string | undefined;

/**
 * The Home Assistant bridge, wired (issue 18): one websocket link, the health watch on it,
 * the notifier (a sink on the event store), the approval buttons, and its retained state.
 * Everything it does stays inside it: HA down, slow or refusing never reaches the rest of
 * the agent, which learns of it only as events and entities.
 */
export class HomeAssistantBridge {
  readonly components: Component[];
  readonly link: HaLink;
  readonly #ctx: CapabilityContext;
  readonly #cfg: HomeAssistantConfig;
  readonly #log: Logger;
  readonly #restart: RestartWindow;
  readonly #watch: HealthWatch;
  #findings: Partial<Record<HaCheck, Finding>> = {};
  #notify = { missing: [] as string[], backlog: 0 };
  #lastState = '';
  #notifierOn: Notifier | undefined;
  #version: string | undefined;

  constructor(ctx: CapabilityContext, cfg: HomeAssistantConfig, token: TokenSource) {
    this.#ctx = ctx;
    this.#cfg = cfg;
    const log = (this.#log = ctx.log.child({ component: 'home-assistant' }));
    this.#restart = new RestartWindow(cfg.restart_grace);
    this.link = new HaLink({
      url: cfg.url,
      token: () => token(cfg.token_env),
      timeoutMs: cfg.timeout,
      pingEveryMs: cfg.ping_every,
      reconnect: { initialMs: cfg.reconnect_min, maxMs: cfg.reconnect_max },
      clock: ctx.clock,
      log,
      onState: (s) => this.#linkChanged(s),
      onConnected: () => this.#notifierOn?.wake(),
    });
    const notifier = ctx.store && cfg.notify.length > 0 ? this.#notifier(ctx) : undefined;
    this.#notifierOn = notifier;
    this.#watch = new HealthWatch({
      link: this.link,
      config: cfg,
      incidents: ctx.incidents,
      restart: this.#restart,
      cooldownMs: ctx.config.containers.cooldown,
      hostAnswers: () => hostAnswers(cfg.url, cfg.timeout),
      emit: (e) => ctx.bus.emit('event', e),
      onFindings: (f) => {
        this.#findings = f;
        this.#publish();
      },
      clock: ctx.clock,
      log,
    });
    new Approvals({ link: this.link, bus: ctx.bus, log });
    this.#listenForRestarts();
    // The watch first: it must hear the link's first status.
    this.components = [this.#watch, this.link, ...(notifier ? [notifier] : [])];
  }

  stop(): void {
    this.#ctx.bus.removeAll('home-assistant');
  }

  #notifier(ctx: CapabilityContext): Notifier {
    const cfg = this.#cfg;
    return new Notifier({
      store: ctx.store!,
      link: this.link,
      routes: cfg.notify,
      groupWindowMs: cfg.group_window,
      staleAfterMs: cfg.stale_after,
      retry: { initialMs: cfg.reconnect_min, maxMs: cfg.reconnect_max },
      clock: ctx.clock,
      log: this.#log.child({ sink: 'notify' }),
      journal: new SentJournal(join(ctx.config.data_dir, NOTIFY_JOURNAL_FILE)),
      onStatus: (s) => {
        this.#notify = s;
        this.#publish();
      },
    });
  }

  /** HA's own stop / start / reload, and a planned restart of its container. */
  #listenForRestarts(): void {
    const now = () => this.#ctx.clock.now();
    this.link.subscribe('homeassistant_stop', () => {
      this.#log.info('Home Assistant is stopping: its health checks pause');
      this.#restart.stopping(now());
      this.#publish();
    });
    const started = () => {
      this.#restart.started(now());
      this.#publish();
    };
    this.link.subscribe('homeassistant_start', started);
    this.link.subscribe('homeassistant_started', started);
    this.link.subscribe('core_config_updated', () => this.#restart.reloading(now()));
    const target = this.#cfg.container;
    if (!target) return;
    listenForContainerRestarts({
      bus: this.#ctx.bus,
      target,
      window: this.#restart,
      now,
      log: this.#log,
      changed: () => this.#publish(),
    });
  }

  #linkChanged(s: LinkState): void {
    this.#watch.linkChanged(s);
    this.#publish();
    // The "Home Assistant" device shows the version: a new one is a discovery round.
    if (s.haVersion !== undefined && s.haVersion !== this.#version) {
      this.#version = s.haVersion;
      this.#ctx.bus.emit('observed', { complete: false });
    }
  }

  /** The Home Assistant version last heard, kept across reconnects. */
  get version(): string | undefined {
    return this.#version;
  }

  #publish(): void {
    const s = this.link.state;
    const f = this.#findings;
    const state: HaBridgeState = {
      connected: s.status === 'connected',
      status: s.status,
      since: new Date(s.since).toISOString(),
      ha_version: s.haVersion ?? null,
      last_error: s.lastError ?? null,
      restarting: this.#restart.active(this.#ctx.clock.now()),
      failed_integrations: f.integrations?.count ?? 0,
      failed_integration_list: [...(f.integrations?.names ?? [])],
      unavailable_entities: f.unavailable?.count ?? 0,
      unavailable_entity_list: [...(f.unavailable?.names ?? [])],
      updates: f.updates?.count ?? 0,
      update_list: [...(f.updates?.names ?? [])],
      missing_notify_services: this.#notify.missing,
      notify_backlog: this.#notify.backlog,
    };
    const json = JSON.stringify(state);
    if (json === this.#lastState) return;
    this.#lastState = json;
    this.#ctx.states.set(topics.homeAssistant(this.#ctx.root), state).catch((err: unknown) => {
      this.#log.warn({ err: errorMessage(err) }, 'Home Assistant bridge state not published');
    });
  }
}
