/**
 * When Home Assistant is restarting on purpose (issue 18, point 2): from its own
 * `homeassistant_stop`, through its start, and for `graceMs` after; for `graceMs` after
 * `core_config_updated`; and for `graceMs` after the container monitor saw its container
 * restarted or stopped without a crash. Its health checks say nothing meanwhile: a planned
 * restart is no outage. A stop is suppressed for `graceMs` only: a HA that never comes
 * back is an outage after all.
 */
export class RestartWindow {
  readonly #graceMs: number;
  #until = -Infinity;
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

  active(now: number): boolean {
    return now < this.#until;
  }

  #extend(at: number): void {
    this.#until = Math.max(this.#until, at + this.#graceMs);
  }
}
