import type { ContainerObservation } from './types.js';

/** What a collector's cache has saved since it started, for its status and for tests. */
export interface ParseStats {
  /** Records decoded, validated and normalised. */
  readonly parsed: number;
  /** Records whose bytes were those of the last listing: their observation was reused. */
  readonly reused: number;
  /** Listings that were the last one's records again: its containers were reused whole. */
  readonly unchanged: number;
}

/**
 * One host's observations from its last complete listing, by the hash of the inspect
 * record each was made from (issue #15). Most of a host's records are byte-identical from
 * one poll to the next; such a record is not decoded, parsed or normalised again, and its
 * observation object is handed on again: the tracker keeps the very object it already
 * holds (observation-sharing.ts), so an unchanged container costs no allocation at all.
 *
 * A reused observation keeps its `observedAt` and `uptimeMs` from when its record was
 * first seen in this form; nothing downstream reads them (the retained state leaves uptime
 * out, container-view.ts), and `startedAt` carries the same information.
 */
export class ObservationCache {
  /** The last complete listing: record hash → observation, null when not monitored. */
  #last = new Map<number, ContainerObservation | null>();
  #lastContainers: readonly ContainerObservation[] = [];
  #lastDigest = 0;
  // This listing so far, in reused arrays: an unchanged listing allocates nothing.
  #hashes: number[] = [];
  #observed: (ContainerObservation | null)[] = [];
  #count = 0;
  #digest = 0;
  #allKnown = true;
  #parsed = 0;
  #reused = 0;
  #unchanged = 0;

  get stats(): ParseStats {
    return { parsed: this.#parsed, reused: this.#reused, unchanged: this.#unchanged };
  }

  /** A new listing begins; what an unfinished one gathered is dropped. */
  begin(): void {
    this.#count = 0;
    this.#digest = 0;
    this.#allKnown = true;
  }

  /** Takes the record's observation from the last listing, if it had this record. */
  reuse(hash: number): boolean {
    const o = this.#last.get(hash);
    if (o === undefined) return false;
    this.#push(hash, o);
    this.#reused++;
    return true;
  }

  /** A record parsed in this listing, and its observation (undefined: not monitored). */
  add(hash: number, observation: ContainerObservation | undefined): void {
    this.#allKnown = false;
    this.#push(hash, observation ?? null);
    this.#parsed++;
  }

  /**
   * The listing is complete: its monitored containers, one per key (`dedupe`). The same
   * records in the same order give the very array of the last listing.
   */
  commit(
    dedupe: (list: readonly ContainerObservation[]) => ContainerObservation[],
  ): readonly ContainerObservation[] {
    const n = this.#count;
    if (this.#allKnown && n === this.#last.size && this.#digest === this.#lastDigest) {
      this.#unchanged++;
      this.#release();
      return this.#lastContainers;
    }
    const last = new Map<number, ContainerObservation | null>();
    const list: ContainerObservation[] = [];
    for (let i = 0; i < n; i++) {
      const o = this.#observed[i]!;
      last.set(this.#hashes[i]!, o);
      if (o) list.push(o);
    }
    this.#last = last;
    this.#lastContainers = dedupe(list);
    this.#lastDigest = this.#digest;
    this.#release();
    return this.#lastContainers;
  }

  /** The listing failed: what it gathered is dropped, the last complete one stays. */
  abort(): void {
    this.#release();
  }

  #push(hash: number, o: ContainerObservation | null): void {
    const i = this.#count++;
    this.#hashes[i] = hash;
    this.#observed[i] = o;
    // Order-sensitive: the same records in another order are another listing.
    this.#digest = (this.#digest * 31 + hash) % 9007199254740881;
  }

  /** Drops this listing's references (the arrays stay, sized for the next one). */
  #release(): void {
    this.#observed.fill(null, 0, this.#count);
    this.#count = 0;
  }
}
