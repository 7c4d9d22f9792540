import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { CommandRunner } from '../../hosts/ssh-connection.js';
import { killCommand, PGID_MARKER, wrappedCommand } from './remote-scripts.js';
import type { JobProcess, RunResult } from './run-result.js';
import { Tail } from './tail.js';

/** How long past the job's timeout the SSH exec may take: the kill has run by then. */
const EXEC_SLACK_MS = 60_000;
const KILL_TIMEOUT_MS = 30_000;

/**
 * A job's command on an SSH host, under the fixed wrapper of remote-scripts.ts: it reports
 * its process group first, and on timeout a second exec on the same connection kills that
 * group — closing the channel alone would leave `rsync` running on the host.
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
    const head = { text: '', pgid: undefined as number | undefined, done: false };
    const onStdout = (chunk: Buffer) => {
      if (head.done) return out.push(chunk);
      // The marker line comes first; everything after it is the command's own output.
      head.text += chunk.toString('latin1');
      const nl = head.text.indexOf('\n');
      if (nl < 0 && head.text.length < 256) return;
      head.done = true;
      const line = nl < 0 ? head.text : head.text.slice(0, nl);
      const m = line.startsWith(PGID_MARKER) ? /^\d+$/.exec(line.slice(PGID_MARKER.length)) : null;
      if (m) head.pgid = Number(m[0]);
      const rest = Buffer.from(m && nl >= 0 ? head.text.slice(nl + 1) : head.text, 'latin1');
      if (rest.length > 0) out.push(rest);
    };
    let timedOut = false;
    let killed: Promise<void> | undefined;
    const timer = this.#clock.setTimeout(() => {
      timedOut = true;
      killed = this.#kill(head.pgid);
    }, timeoutMs);
    const result = (r: Omit<RunResult, 'startedAt' | 'durationMs' | 'stdout' | 'timedOut'>) => ({
      ...r,
      ok: r.ok && !timedOut,
      timedOut,
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      stdout: out.text(),
    });
    try {
      const r = await this.#runner.exec(wrappedCommand(argv), {
        timeoutMs: timeoutMs + EXEC_SLACK_MS,
        maxOutputBytes: Number.MAX_SAFE_INTEGER,
        onStdout,
      });
      if (r.stdout.length > 0) onStdout(r.stdout);
      const stderr = new Tail(this.#tailBytes);
      stderr.push(Buffer.from(r.stderr));
      return result({
        ok: r.code === 0,
        exitCode: r.code,
        signal: r.signal,
        stderr: stderr.text(),
      });
    } catch (err) {
      return result({
        ok: false,
        exitCode: null,
        signal: null,
        stderr: '',
        error: `over SSH: ${errorMessage(err)}`,
      });
    } finally {
      this.#clock.clearTimeout(timer);
      await killed;
    }
  }

  async #kill(pgid: number | undefined): Promise<void> {
    if (pgid === undefined) {
      this.#log.warn('backup timed out before its process group was known: nothing to kill');
      return;
    }
    try {
      await this.#runner.exec(killCommand(pgid), { timeoutMs: KILL_TIMEOUT_MS });
    } catch (err) {
      this.#log.warn({ pgid, err: errorMessage(err) }, 'could not kill the timed-out backup');
    }
  }
}
