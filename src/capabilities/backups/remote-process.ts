import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { runInOwnGroup } from '../../hosts/remote-group.js';
import type { CommandRunner } from '../../hosts/ssh-connection.js';
import type { JobProcess, RunResult } from './run-result.js';
import { Tail } from './tail.js';

/**
 * A job's command on an SSH host, in a process group of its own that is killed whole on
 * timeout (hosts/remote-group.ts), with the last bytes of each stream kept.
 */
export class RemoteProcess implements JobProcess {
  readonly #runner: CommandRunner;
  readonly #clock: Clock;
  readonly #tailBytes: number;
  readonly #log: Logger;

  constructor(opts: { runner: CommandRunner; clock: Clock; tailBytes: number; log: Logger }) {
    this.#runner = opts.runner;
    this.#clock = opts.clock;
    this.#tailBytes = opts.tailBytes;
    this.#log = opts.log;
  }

  async run(argv: readonly string[], timeoutMs: number): Promise<RunResult> {
    const startedAt = this.#clock.now();
    const t0 = performance.now();
    const out = new Tail(this.#tailBytes);
    const r = await runInOwnGroup(this.#runner, argv, {
      timeoutMs,
      clock: this.#clock,
      log: this.#log,
      what: 'backup',
      onStdout: (chunk) => out.push(chunk),
    });
    const stderr = new Tail(this.#tailBytes);
    stderr.push(Buffer.from(r.stderr));
    return {
      ok: r.code === 0 && !r.timedOut && r.error === undefined,
      exitCode: r.code,
      signal: r.signal,
      timedOut: r.timedOut,
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      stdout: out.text(),
      stderr: stderr.text(),
      ...(r.error !== undefined ? { error: `over SSH: ${r.error}` } : {}),
    };
  }
}
