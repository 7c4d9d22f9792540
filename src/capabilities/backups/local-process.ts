import { spawn } from 'node:child_process';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { JobProcess, RunResult } from './run-result.js';
import { Tail } from './tail.js';

/** After SIGTERM, how long the process group has before SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** After the process exited, how long its output pipes may stay open (a child kept them). */
const PIPE_GRACE_MS = 1_000;

/**
 * A job's command on the agent's machine: spawned without a shell (the argv is the
 * config's, word for word) in a process group of its own (`detached`), so a timeout kills
 * the whole group — `pg_dump` and whatever it started — and not just the first process.
 */
export class LocalProcess implements JobProcess {
  readonly #clock: Clock;
  readonly #tailBytes: number;

  constructor(opts: { clock: Clock; tailBytes: number }) {
    this.#clock = opts.clock;
    this.#tailBytes = opts.tailBytes;
  }

  run(argv: readonly string[], timeoutMs: number): Promise<RunResult> {
    const startedAt = this.#clock.now();
    const t0 = performance.now();
    const out = new Tail(this.#tailBytes);
    const err = new Tail(this.#tailBytes);
    return new Promise<RunResult>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let timedOut = false;
      let spawnError: string | undefined;
      let exit: { code: number | null; signal: string | null } | undefined;
      const timers: ReturnType<Clock['setTimeout']>[] = [];
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          // A negative pid signals the process group the detached child leads.
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // The group is gone already.
        }
      };
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        for (const t of timers) this.#clock.clearTimeout(t);
        const code = exit?.code ?? null;
        const signal = exit?.signal ?? null;
        const ok = !timedOut && !spawnError && code === 0;
        resolve({
          ok,
          exitCode: code,
          signal,
          timedOut,
          startedAt,
          durationMs: Math.round(performance.now() - t0),
          stdout: out.text(),
          stderr: err.text(),
          ...(spawnError ? { error: spawnError } : {}),
        });
      };
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => {
        spawnError = `cannot run ${argv[0]}: ${errorMessage(e)}`;
        settle();
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // The leader went on SIGTERM: whatever of its group ignored it goes now.
        if (timedOut) killGroup('SIGKILL');
        // A grandchild that left the group may hold the pipes open: do not wait for it.
        timers.push(
          this.#clock.setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            settle();
          }, PIPE_GRACE_MS),
        );
      });
      child.on('close', settle);
      timers.push(
        this.#clock.setTimeout(() => {
          timedOut = true;
          killGroup('SIGTERM');
          timers.push(this.#clock.setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
        }, timeoutMs),
      );
    });
  }
}
