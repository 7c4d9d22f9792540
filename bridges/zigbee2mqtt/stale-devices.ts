/** Devices tracked at most when Zigbee2MQTT's own device list is not known yet. */
const MAX_UNLISTED = 5000;

/**
 * Each device's last_seen, and which are older than `staleAfterMs`. Bounded: once
 * `bridge/devices` is known only listed devices are kept, and before that at most
 * MAX_UNLISTED names, so messages on made-up topics cannot grow it without end.
 */
export class StaleDevices {
  readonly #staleAfterMs: number;
  readonly #listMax: number;
  readonly #lastSeen = new Map<string, number>();

  constructor(staleAfterMs: number, listMax: number) {
    this.#staleAfterMs = staleAfterMs;
    this.#listMax = listMax;
  }

  /** Records a last_seen; true when it changed anything. */
  seen(name: string, at: number, listed: readonly string[] | undefined): boolean {
    if (listed && !listed.includes(name)) return false;
    if (!listed && !this.#lastSeen.has(name) && this.#lastSeen.size >= MAX_UNLISTED) return false;
    if ((this.#lastSeen.get(name) ?? -Infinity) >= at) return false;
    this.#lastSeen.set(name, at);
    return true;
  }

  /** Forgets devices no longer in Zigbee2MQTT's list. */
  keepOnly(listed: readonly string[]): void {
    const keep = new Set(listed);
    for (const name of this.#lastSeen.keys()) if (!keep.has(name)) this.#lastSeen.delete(name);
  }

  /** The stale devices now, oldest first: how many, and the first `listMax` names. */
  list(now: number, listed: readonly string[] | undefined): { count: number; names: string[] } {
    const cutoff = now - this.#staleAfterMs;
    const stale = [...this.#lastSeen]
      .filter(([name, at]) => at < cutoff && (!listed || listed.includes(name)))
      .sort((a, b) => a[1] - b[1]);
    return { count: stale.length, names: stale.slice(0, this.#listMax).map(([n]) => n) };
  }
}
