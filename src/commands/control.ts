import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Answer, Command } from './command.js';
import { commandError, errorAnswer } from './command.js';
import type { FlapDetector } from './flap-detector.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import type { RemediationPublisher } from './publisher.js';
import type { RestartBudgets } from './restart-budget.js';
import { suppressionSnapshotSchema, Suppressions } from './suppressions.js';

export const SUPPRESSIONS_FILE = 'suppressions.json';

export interface ControlDeps {
  hosts: readonly string[];
  budgets: RestartBudgets;
  flaps: FlapDetector;
  publisher: RemediationPublisher;
  clock: Clock;
  log: Logger;
  /** Where maintenance and silences are kept across restarts; none in tests that need none. */
  file?: string;
}

/** Loads persisted maintenance and silences; a missing or damaged file means none. */
export function loadSuppressions(file: string | undefined, log: Logger): Suppressions {
  if (file === undefined) return new Suppressions();
  const raw = readJsonFile(file);
  if (raw === undefined) return new Suppressions();
  const parsed = suppressionSnapshotSchema.safeParse(raw);
  if (!parsed.success) log.warn({ file }, 'suppressions file damaged: starting without');
  return new Suppressions(parsed.success ? parsed.data : undefined);
}

/**
 * The commands that act on remediation itself once the policy let them through:
 * maintenance (per host, on/off, optionally timed), silence (host or container, timed)
 * and ack (an operator resets a target's restart budget and flap state).
 */
export class ControlCommands {
  readonly suppressions: Suppressions;
  readonly #d: ControlDeps;
  #timer: TimerHandle | undefined;

  constructor(deps: ControlDeps, suppressions: Suppressions) {
    this.#d = deps;
    this.suppressions = suppressions;
  }

  /** Publishes every host's maintenance and silence state (retained), for the HA switches. */
  start(): void {
    this.#publishAll();
  }

  stop(): void {
    if (this.#timer) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Checks what the schema cannot: the host exists. */
  validate(cmd: Command): Answer | undefined {
    if (cmd.action !== 'maintenance') return undefined;
    if (this.#d.hosts.includes(cmd.target)) return undefined;
    const err = commandError('not_found', 'target', `no host ${cmd.target} in the config`);
    return errorAnswer(cmd.action, cmd.id ?? null, err);
  }

  /** `by`: who the channel says asked (never the payload's claim). */
  apply(cmd: Command, by: string): Answer {
    const now = this.#d.clock.now();
    const forMs = cmd.args.for as number | undefined;
    const base = { ok: true, id: cmd.id ?? null, action: cmd.action, target: cmd.target };
    switch (cmd.action) {
      case 'maintenance': {
        const until = forMs === undefined ? null : now + forMs;
        this.suppressions.setMaintenance(cmd.target, cmd.enabled === true, until, by);
        this.#changed();
        const msg = cmd.enabled
          ? `maintenance of ${cmd.target} on${until === null ? '' : ` until ${iso(until)}`}`
          : `maintenance of ${cmd.target} off`;
        return { ...base, message: msg };
      }
      case 'silence': {
        if (cmd.enabled === false) {
          this.suppressions.unsilence(cmd.target);
          this.#changed();
          return { ...base, message: `silence of ${cmd.target} off` };
        }
        this.suppressions.silence(cmd.target, now + forMs!, by);
        this.#changed();
        return { ...base, message: `${cmd.target} silenced until ${iso(now + forMs!)}` };
      }
      case 'ack':
        this.#d.budgets.reset(cmd.target);
        this.#d.flaps.clear(cmd.target);
        return { ...base, message: `${cmd.target}: restart budget and flap state reset` };
      default:
        return errorAnswer(
          cmd.action,
          cmd.id ?? null,
          commandError('internal', 'action', 'not a control command'),
        );
    }
  }

  #changed(): void {
    const { file, clock, log } = this.#d;
    if (file !== undefined) {
      try {
        writeJsonFile(file, this.suppressions.snapshot(clock.now()));
      } catch (err) {
        log.error(
          { file, err: errorMessage(err) },
          'suppressions not saved: they end with the agent',
        );
      }
    }
    this.#publishAll();
  }

  /** Every host's state, and a timer for the next timed maintenance or silence to end. */
  #publishAll(): void {
    const now = this.#d.clock.now();
    const s = this.suppressions;
    for (const host of this.#d.hosts) {
      this.#d.publisher.maintenance(host, s.maintenance(host, now));
      this.#d.publisher.silence(host, s.silenced(host, now), s.containerSilences(host, now));
    }
    this.stop();
    const next = s.nextEnd(now);
    if (next !== undefined) {
      this.#timer = this.#d.clock.setTimeout(() => this.#publishAll(), next - now);
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
