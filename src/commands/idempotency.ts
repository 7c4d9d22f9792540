import type { Answer, Command } from './command.js';

/**
 * Command ids seen recently, with the answer each got: the same id twice runs once and
 * answers twice (a duplicate arriving while the first still runs waits for its answer).
 * Bounded; actions are also found by id in the action store, which survives restarts.
 */
export class IdempotencyCache {
  readonly #max: number;
  readonly #entries = new Map<string, { fingerprint: string; answer: Promise<Answer> }>();

  constructor(max = 10_000) {
    this.#max = max;
  }

  get(id: string): { fingerprint: string; answer: Promise<Answer> } | undefined {
    return this.#entries.get(id);
  }

  set(id: string, fingerprint: string, answer: Promise<Answer>): void {
    this.#entries.delete(id);
    this.#entries.set(id, { fingerprint, answer });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forgets the id if `answer` is still its answer: a retryable refusal is not final. */
  forget(id: string, answer: Promise<Answer>): void {
    if (this.#entries.get(id)?.answer === answer) this.#entries.delete(id);
  }
}

/** What makes two commands with one id "the same": everything but reason and who asked. */
export function fingerprint(cmd: Command): string {
  return canonical({
    action: cmd.action,
    target: cmd.target,
    args: cmd.args,
    dry_run: cmd.dryRun,
    enabled: cmd.enabled ?? null,
    // Only when given: fingerprints stored before these fields existed stay the same.
    ...(cmd.pick !== undefined ? { pick: cmd.pick } : {}),
    ...(cmd.option !== undefined ? { option: cmd.option } : {}),
  });
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` are one fingerprint. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
