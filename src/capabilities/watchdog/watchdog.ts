import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { NewEvent } from '../../core/events.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import { watchdogChecks, type WatchdogCheck } from '../../collectors/watchdog/checks.js';
import { WatchdogDevice } from '../../collectors/watchdog/device.js';
import { readDeviceTimeout } from '../../collectors/watchdog/device-timeout.js';
import type { ProbeResult } from '../../collectors/watchdog/probes.js';
import type { WatchdogConfig } from '../../config/schema.js';
import { incidentRef, type Incidents } from '../../state/incidents.js';
import { WatchdogTracker, type CheckOutcome, type WatchdogVerdict } from '../../state/watchdog.js';
import { PettingGate } from '../../state/watchdog-petting.js';

/** The state on `<base>/<node>/watchdog` (retained JSON; fields per discovery WATCHDOG_FIELDS). */
export interface WatchdogState extends WatchdogVerdict {
  /** The device is open and was written to after the last round. */
  petting: boolean;
  /** ISO 8601 time of the last write to the device; null before the first. */
  last_pet: string | null;
}

/** Where the state goes: the agent's StatePublisher. */
export interface WatchdogStateSink {
  set(topic: string, value: unknown): Promise<void>;
}

export interface WatchdogOptions {
  checks: readonly WatchdogCheck[];
  intervalMs: number;
  /** The hardware watchdog device to pet while healthy; none when absent. */
  devicePath?: string;
  /** The device's own timeout, for "will reset in ~N s"; read from sysfs when absent. */
  deviceTimeoutMs?: number;
  /** Where sysfs has the watchdogs (tests point it at a fixture). */
  sysClassWatchdog?: string;
  /** After start, petting never stops for this long (default 0). */
  graceMs?: number;
  /** How long local checks may be down before petting stops (default 0: at once). */
  maxUnhealthyMs?: number;
  /** The node's name, for the announcement that petting stops. */
  node?: string;
  states: WatchdogStateSink;
  stateTopic: string;
  /** Where transitions go: the event store. */
  record(event: NewEvent): void;
  /** The uplink verdict changed: false pauses the uplink, true resumes it. */
  uplinkChanged?(up: boolean): void;
  /**
   * Open incidents: each verdict change opens or closes one (`watchdog`, `uplink`), and a
   * restarted agent does not announce again an outage it already announced.
   */
  incidents?: Incidents;
  clock?: Clock;
  log: Logger;
}

/**
 * The health-gated watchdog (DESIGN.md): every interval it runs all checks at once, each
 * bounded by its timeout, feeds the outcomes to the tracker, records the transitions,
 * pets the device while every local check is up, and publishes the state.
 */
export class Watchdog implements Component {
  readonly name = 'watchdog';
  readonly #o: WatchdogOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #tracker: WatchdogTracker;
  #device: WatchdogDevice | undefined;
  #running = false;
  #timer: TimerHandle | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopping = new AbortController();
  #petting = false;
  #lastPet: string | null = null;
  #lastPetAt: number | undefined;
  #deviceTimeoutMs: number | undefined;
  #gate: PettingGate | undefined;
  #rounds = 0;
  #tellUplink: boolean;

  constructor(opts: WatchdogOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log.child({ component: 'watchdog' });
    const open = (subject: string) => opts.incidents?.get('watchdog', subject)?.since;
    const restored = { unhealthySince: open('watchdog'), uplinkLostSince: open('uplink') };
    this.#tracker = new WatchdogTracker(opts.checks, restored);
    // An uplink lost before a restart: the bridge starts running and must hear it again.
    this.#tellUplink = restored.uplinkLostSince !== undefined;
  }

  async start(): Promise<void> {
    if (this.#o.devicePath !== undefined) {
      try {
        this.#device = await WatchdogDevice.open(this.#o.devicePath);
        this.#log.info(
          { device: this.#o.devicePath },
          'watchdog device open: petting while healthy',
        );
        this.#deviceTimeoutMs =
          this.#o.deviceTimeoutMs ??
          (await readDeviceTimeout(this.#o.devicePath, this.#o.sysClassWatchdog));
      } catch (err) {
        // The checks still run and gate the uplink; the state says petting: false.
        this.#log.error(
          { device: this.#o.devicePath, err: errorMessage(err) },
          'watchdog device unavailable: not petting',
        );
      }
    }
    this.#gate = new PettingGate({
      graceMs: this.#o.graceMs ?? 0,
      maxUnhealthyMs: this.#o.maxUnhealthyMs ?? 0,
      startedAt: this.#clock.now(),
      node: this.#o.node ?? 'this machine',
    });
    this.#running = true;
    this.#stopping = new AbortController();
    // The first round runs now, not awaited: a check may take its whole timeout.
    this.#startRound();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort();
    await this.#round;
    const device = this.#device;
    this.#device = undefined;
    if (!device) return;
    try {
      await device.close();
      this.#log.info({ device: device.path }, 'watchdog device closed (magic close)');
    } catch (err) {
      this.#log.error(
        { device: device.path, err: errorMessage(err) },
        'watchdog device close failed',
      );
    }
  }

  /** Resolves when the round in progress (if any) is done: for tests and stop. */
  idle(): Promise<void> {
    return this.#round;
  }

  /** Rounds completed so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /** The state as last published (before the first round: all up, nothing checked). */
  state(): WatchdogState {
    return { ...this.#tracker.verdict(), petting: this.#petting, last_pet: this.#lastPet };
  }

  #startRound(): void {
    const started = this.#clock.now();
    this.#round = this.#runRound()
      .catch((err: unknown) => this.#log.error({ err: errorMessage(err) }, 'watchdog round failed'))
      .finally(() => {
        if (!this.#running) return;
        const wait = Math.max(0, this.#o.intervalMs - (this.#clock.now() - started));
        this.#timer = this.#clock.setTimeout(() => this.#startRound(), wait);
      });
  }

  async #runRound(): Promise<void> {
    const outcomes = await Promise.all(this.#o.checks.map((c) => this.#runCheck(c)));
    if (!this.#running) return;
    const { verdict, events } = this.#tracker.apply(outcomes, this.#clock.now());
    for (const e of events) this.#o.record(this.#withIncident(e));
    if (this.#tellUplink || events.some((e) => e.subject === 'uplink')) {
      this.#o.uplinkChanged?.(verdict.uplink);
    }
    this.#tellUplink = false;
    await this.#pet(this.#decide(verdict));
    this.#rounds++;
    const state: WatchdogState = { ...verdict, petting: this.#petting, last_pet: this.#lastPet };
    this.#o.states.set(this.#o.stateTopic, state).catch((err: unknown) => {
      this.#log.warn({ err: errorMessage(err) }, 'watchdog state not published');
    });
  }

  /**
   * Whether this round pets the device. On the round the petting stops, the announcement
   * is recorded (stored, then published by the sinks) before the pet is left out, so Home
   * Assistant and the uplink hear of the reset while the hardware timer still runs.
   */
  #decide(verdict: WatchdogVerdict): boolean {
    if (!this.#device || !this.#gate) return false;
    const now = this.#clock.now();
    const since = this.#lastPetAt === undefined ? 0 : now - this.#lastPetAt;
    const decision = this.#gate.decide({
      now,
      verdict,
      unhealthySince: this.#tracker.unhealthySince,
      resetInMs:
        this.#deviceTimeoutMs === undefined
          ? undefined
          : Math.max(0, this.#deviceTimeoutMs - since),
    });
    if (decision.announce) {
      this.#o.record(this.#withIncident(decision.announce));
      this.#log.warn(
        { device: this.#device.path, message: decision.announce.data?.message },
        'local checks down past max_unhealthy: no longer petting the watchdog device',
      );
    }
    return decision.pet;
  }

  /** A verdict change opens (down) or closes (up) the incident of its subject. */
  #withIncident(e: NewEvent): NewEvent {
    const book = this.#o.incidents;
    if (!book) return e;
    const at = typeof e.ts === 'number' ? e.ts : this.#clock.now();
    const up = e.severity === 'info';
    // The reset announcement is one more alert of the outage's incident, not a new one.
    const signal = e.type === 'watchdog_reset_pending' ? 'reset' : 'verdict';
    const incident = up
      ? book.close('watchdog', e.subject)
      : book.raise(e.subject, signal, e.severity, at, { kind: 'watchdog' }).incident;
    if (!incident) return e;
    return {
      ...e,
      data: { ...e.data, incident: incidentRef(incident, at, up ? 'closed' : 'open') },
    };
  }

  async #runCheck(c: WatchdogCheck): Promise<CheckOutcome> {
    const t0 = this.#clock.now();
    const abort = new AbortController();
    const onStop = () => abort.abort();
    this.#stopping.signal.addEventListener('abort', onStop, { once: true });
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<ProbeResult>((resolve) => {
      timer = this.#clock.setTimeout(() => {
        resolve({ ok: false, message: `timed out after ${c.timeoutMs} ms` });
        abort.abort();
      }, c.timeoutMs);
    });
    try {
      const probed = c
        .probe(abort.signal)
        .catch((err: unknown): ProbeResult => ({ ok: false, message: errorMessage(err) }));
      const r = await Promise.race([probed, timedOut]);
      return { id: c.id, ok: r.ok, message: r.message, latencyMs: this.#clock.now() - t0 };
    } finally {
      if (timer) this.#clock.clearTimeout(timer);
      this.#stopping.signal.removeEventListener('abort', onStop);
    }
  }

  /** Writes to the device when the gate says so; left out, the hardware timer runs out. */
  async #pet(pet: boolean): Promise<void> {
    const device = this.#device;
    if (!device || !pet) {
      this.#petting = false;
      return;
    }
    try {
      await device.pet();
      this.#petting = true;
      this.#lastPetAt = this.#clock.now();
      this.#lastPet = new Date(this.#lastPetAt).toISOString();
    } catch (err) {
      this.#petting = false;
      this.#log.error(
        { device: device.path, err: errorMessage(err) },
        'watchdog device write failed',
      );
    }
  }
}

/** The watchdog for the `watchdog` section; the caller supplies where state and events go. */
export function watchdogFromConfig(
  config: WatchdogConfig,
  deps: Omit<
    WatchdogOptions,
    'checks' | 'intervalMs' | 'devicePath' | 'deviceTimeoutMs' | 'graceMs' | 'maxUnhealthyMs'
  >,
): Watchdog {
  return new Watchdog({
    ...deps,
    checks: watchdogChecks(config),
    intervalMs: config.interval,
    devicePath: config.device.enabled ? config.device.path : undefined,
    deviceTimeoutMs: config.device.timeout,
    graceMs: config.grace,
    maxUnhealthyMs: config.max_unhealthy,
  });
}
