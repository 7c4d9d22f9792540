import { Backoff } from '../../core/backoff.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { OutpostError, errorMessage } from '../../core/errors.js';
import type { Component } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import { REMOVAL_ACTIONS, STATE_ACTIONS, type EngineApi } from '../../hosts/engine-api.js';
import { EngineEventStream, type EngineEvent } from '../../hosts/engine-events.js';
import { PodmanEventsFile } from '../../hosts/podman-events-file.js';
import { inspectSupersedes, stateFromEvent, type EventMark } from './event-state.js';
import { dedupeByKey, observe } from './normalize.js';
import type { ContainerSelector } from './selection.js';
import { SeenEvents, type EventSource } from './seen-events.js';
import { emitSafely, HostStatusReporter, reachOf } from './status.js';
import type { ContainerObservation, ContainerSink, EngineEventCause } from './types.js';

export interface LocalCollectorOptions {
  host: string;
  api: EngineApi;
  selector: ContainerSelector;
  clock: Clock;
  log: Logger;
  sink: ContainerSink;
  /** Full list besides the event stream (`containers.reconcile_every`). */
  reconcileEveryMs: number;
  backoff?: Backoff;
  /**
   * podman's events file on this machine (`engine.events_file`), read as it grows: its
   * events come at once instead of with the API stream's ~250 ms polling (issue #15).
   */
  eventsFile?: string;
}

/** Per container id: events are handled one at a time, repeats coalesced. */
interface IdQueue {
  busy: boolean;
  dirty: boolean;
  cause: EngineEventCause;
  removed?: EngineEventCause;
  /** The last event whose state was published from the event itself. */
  derived?: EventMark;
}

/**
 * Watches one engine through its API: every state-changing event is emitted at once with
 * the state it says (event-state.ts), then inspected and emitted again with the details; a
 * full reconcile runs on a timer and after every (re)connect of the
 * event stream, so a change the stream missed is still seen.
 */
export class LocalContainerCollector implements Component {
  readonly name: string;
  readonly #opts: LocalCollectorOptions;
  readonly #stream: EngineEventStream;
  /** podman's events file and the copies of its events the stream brings again. */
  readonly #file: { tail: PodmanEventsFile; seen: SeenEvents } | undefined;
  readonly #status: HostStatusReporter;
  readonly #queues = new Map<string, IdQueue>();
  /** Event-driven results by id, with the sequence number of the inspect that made them. */
  readonly #latest = new Map<string, { seq: number; obs: ContainerObservation | null }>();
  /** The last observation emitted of each monitored container: what its events change. */
  #known = new Map<string, ContainerObservation>();
  #seq = 0;
  #timer: TimerHandle | undefined;
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #stopped = true;
  #engine: string | undefined;
  /** The version check and reconcile that follow a (re)connect. */
  #connected: Promise<void> | undefined;

  constructor(opts: LocalCollectorOptions) {
    this.#opts = opts;
    this.name = `containers:${opts.host}`;
    this.#status = new HostStatusReporter(opts.host, opts.clock, opts.log, opts.sink);
    this.#stream = new EngineEventStream({
      api: opts.api,
      clock: opts.clock,
      log: opts.log.child({ host: opts.host }),
      backoff: opts.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 }),
      onEvent: (e) => this.#onEvent(e, 'stream'),
      onConnected: () => {
        this.#connected = this.#afterConnect();
      },
      onDisconnected: (err) => this.#status.report(reachOf(err), err.message),
    });
    if (opts.eventsFile) {
      const tail = new PodmanEventsFile({
        path: opts.eventsFile,
        clock: opts.clock,
        log: opts.log.child({ host: opts.host }),
        onEvent: (e) => this.#onEvent(e, 'file'),
      });
      this.#file = { tail, seen: new SeenEvents() };
    }
  }

  /** Resolves once the first connection attempt and its reconcile are done; never throws. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#file?.tail.start();
    await this.#stream.start();
    await this.#connected;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stream.stop();
    this.#file?.tail.stop();
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#connected?.catch(() => undefined);
    await this.#reconciling?.catch(() => undefined);
  }

  /** Lists and inspects everything now and emits a snapshot; concurrent calls coalesce. */
  reconcile(): Promise<void> {
    if (this.#reconciling) {
      this.#reconcileAgain = true;
      return this.#reconciling;
    }
    const run = async () => {
      do {
        this.#reconcileAgain = false;
        await this.#reconcileOnce();
      } while (this.#reconcileAgain && !this.#stopped);
    };
    this.#reconciling = run().finally(() => {
      this.#reconciling = undefined;
      this.#arm();
    });
    return this.#reconciling;
  }

  async #afterConnect(): Promise<void> {
    try {
      this.#engine = await this.#opts.api.version();
    } catch (err) {
      this.#opts.log.debug({ host: this.#opts.host, err: errorMessage(err) }, 'engine version');
    }
    await this.reconcile();
  }

  async #reconcileOnce(): Promise<void> {
    if (this.#stopped) return;
    const { api, clock, host, selector } = this.#opts;
    const startSeq = this.#seq;
    let records;
    try {
      records = await api.listAll();
    } catch (err) {
      const e = err instanceof OutpostError ? err : new OutpostError('INTERNAL', errorMessage(err));
      this.#status.report(reachOf(e), e.message, this.#engine);
      return;
    }
    if (this.#stopped) return;
    const now = clock.now();
    const byId = new Map<string, ContainerObservation>();
    for (const r of records) {
      const o = observe(host, r, selector, now);
      if (o) byId.set(o.id, o);
    }
    // An event handled while the list was being read is newer than what the list says.
    for (const [id, latest] of this.#latest) {
      if (latest.seq <= startSeq) this.#latest.delete(id);
      else if (latest.obs) byId.set(id, latest.obs);
      else byId.delete(id);
    }
    this.#known = byId;
    const containers = dedupeByKey([...byId.values()]);
    emitSafely(this.#opts, { kind: 'snapshot', host, containers, at: now });
    if (this.#stream.connected) this.#status.report('ok', undefined, this.#engine);
    else {
      const why = 'event stream down; changes are seen at each reconcile only';
      this.#status.report('degraded', why, this.#engine);
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const { clock, reconcileEveryMs } = this.#opts;
    if (this.#timer) clock.clearTimeout(this.#timer);
    this.#timer = clock.setTimeout(() => void this.reconcile(), reconcileEveryMs);
  }

  #onEvent(e: EngineEvent, source: EventSource): void {
    const removal = REMOVAL_ACTIONS.has(e.action);
    if (!removal && !STATE_ACTIONS.has(e.action)) return;
    // The file's event and the stream's copy of it are one event: acted on once.
    if (this.#file && !this.#file.seen.first(e, source)) return;
    const seq = ++this.#seq;
    const cause = { action: e.action, timeNano: e.timeNano, receivedAt: e.receivedAt };
    let q = this.#queues.get(e.id);
    if (!q) {
      q = { busy: false, dirty: false, cause };
      this.#queues.set(e.id, q);
    }
    q.cause = cause;
    if (removal) q.removed = cause;
    else if (!q.removed) this.#derive(e, seq, q, cause);
    q.dirty = true;
    if (!q.busy) void this.#drain(e.id, q);
  }

  /** Emits the state the event says, if it says one, without waiting for the inspect. */
  #derive(e: EngineEvent, seq: number, q: IdQueue, cause: EngineEventCause): void {
    const prev = this.#known.get(e.id);
    if (!prev || this.#stopped) return;
    const obs = stateFromEvent(prev, e, this.#opts.clock.now());
    if (!obs) return;
    q.derived = { seq, timeNano: e.timeNano };
    this.#keep(seq, obs);
    emitSafely(this.#opts, { kind: 'container', host: this.#opts.host, container: obs, cause });
  }

  async #drain(id: string, q: IdQueue): Promise<void> {
    const { api, clock, host, selector, log } = this.#opts;
    q.busy = true;
    try {
      while (q.dirty && !this.#stopped) {
        q.dirty = false;
        if (q.removed) {
          this.#removed(id, q.removed);
          break;
        }
        const cause = q.cause;
        const seq = ++this.#seq;
        const record = await api.inspect(id);
        if (q.removed || this.#stopped) continue;
        if (!record) {
          this.#removed(id, cause);
          break;
        }
        const obs = observe(host, record, selector, clock.now());
        if (!obs) break;
        // An event read while this inspect was out may be newer than its answer: the
        // event's state stands, and the inspect it queued (q.dirty) fills the details.
        if (q.derived && !inspectSupersedes(obs, seq, q.derived)) continue;
        this.#keep(seq, obs);
        emitSafely(this.#opts, { kind: 'container', host, container: obs, cause });
      }
    } catch (err) {
      // The engine failed to answer about this one container: a reconcile sets the
      // host's status and catches the change.
      log.warn({ host, id: id.slice(0, 12), err: errorMessage(err) }, 'inspect after event failed');
      void this.reconcile();
    } finally {
      q.busy = false;
      if (!q.dirty || q.removed) this.#queues.delete(id);
    }
  }

  #keep(seq: number, obs: ContainerObservation): void {
    this.#latest.set(obs.id, { seq, obs });
    this.#known.set(obs.id, obs);
  }

  #removed(id: string, cause: EngineEventCause): void {
    this.#known.delete(id);
    this.#latest.set(id, { seq: ++this.#seq, obs: null });
    emitSafely(this.#opts, { kind: 'removed', host: this.#opts.host, id, cause });
  }
}
