/**
 * When Home Assistant is restarting on purpose (issue 18, point 2), so that its health
 * checks say nothing: a planned restart is no outage. The window is open
 *
 * - from HA's own `homeassistant_stop` for `graceMs`, and for `graceMs` after it started
 *   again (its `homeassistant_start(ed)`, or the bridge reconnecting);
 * - for `graceMs` after `core_config_updated`;
 * - while outpost's own action on HA's container runs (from its start, up to its deadline)
 *   and for `graceMs` after it ended;
 * - for `graceMs` after the container monitor saw the container restarted or stopped
 *   without a crash (a restart done outside outpost).
 *
 * A stop is suppressed for `graceMs` only: a HA that never comes back is an outage after all.
 */
export class RestartWindow {
  readonly #graceMs: number;
  #until = -Infinity;
  /** The deadline of outpost's own action on HA's container, while it runs. */
  #actionUntil = -Infinity;
  #stopped = false;

  constructor(graceMs: number) {
    this.#graceMs = graceMs;
  }

  /** HA announced its stop, or its container was restarted on purpose. */
  stopping(at: number): void {
    this.#stopped = true;
    this.#extend(at);
  }

  /** HA started (its event), or the bridge reconnected after a stop. */
  started(at: number): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#extend(at);
  }

  /** Something that makes HA reload (its core config changed). */
  reloading(at: number): void {
    this.#extend(at);
  }

  /** An action on HA's container started at `at`; it ends by `deadline` at the latest. */
  actionStarted(at: number, deadline: number): void {
    this.#stopped = true;
    this.#extend(at);
    this.#actionUntil = deadline;
  }

  /** That action ended (done or failed): `graceMs` more for HA to come back, not its deadline. */
  actionEnded(at: number): void {
    this.#actionUntil = -Infinity;
    this.#extend(at);
  }

  active(now: number): boolean {
    return now < this.#until || now < this.#actionUntil;
  }

  #extend(at: number): void {
    this.#until = Math.max(this.#until, at + this.#graceMs);
  }
}
