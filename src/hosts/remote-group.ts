import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { shJoin, shQuote } from './shell-quote.js';
import type { CommandRunner } from './ssh-connection.js';

/** The first line a wrapped remote command prints: its process group id. */
export const PGID_MARKER = '@@outpost:pgid ';

/** How long past the command's timeout the SSH exec may take: the kill has run by then. */
const EXEC_SLACK_MS = 60_000;
const KILL_TIMEOUT_MS = 30_000;

/**
 * An argv from config as the remote command line. The remote shell only ever sees this
 * fixed wrapper and the config's words, each single-quoted (shell-quote.ts): `setsid -w`
 * puts the command in a new session — its own process group, whose id is the pid of the
 * `sh` that prints it — and waits for it, passing its exit status back. `exec "$@"` makes
 * that pid the command's own, so killing the group reaches it and all it started.
 */
export function groupWrapped(argv: readonly string[]): string {
  const inner = `echo "${PGID_MARKER}$$"; exec "$@"`;
  return `exec setsid -w sh -c ${shQuote(inner)} outpost-job ${shJoin(argv)}`;
}

/**
 * Kills a process group on the host: SIGTERM, up to 5 s for it to go, then SIGKILL. The
 * group id is passed as an argument (`$1`), never pasted into the script. `kill -SIG -N`
 * without `--`: dash's kill reads `--` as a pid and kills nothing.
 */
const KILL_SCRIPT = [
  'g=$1',
  'kill -TERM "-$g" 2>/dev/null || exit 0',
  'i=0',
  'while [ "$i" -lt 50 ] && kill -0 "-$g" 2>/dev/null; do sleep 0.1; i=$((i+1)); done',
  'kill -KILL "-$g" 2>/dev/null',
  'exit 0',
].join('\n');

export function killGroupCommand(pgid: number): string {
  return `sh -c ${shQuote(KILL_SCRIPT)} outpost-kill ${shQuote(String(pgid))}`;
}

export interface GroupRunOptions {
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** What runs, for the log line when it cannot be killed ("backup", "cleanup job"). */
  readonly what: string;
  /** The command's own output, the marker line taken off. */
  readonly onStdout: (chunk: Buffer) => void;
}

export interface GroupRunResult {
  /** Null when a signal ended it. */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  /** It ran past its timeout and its process group was killed. */
  readonly timedOut: boolean;
  /** The SSH exec itself failed (connection lost, channel refused), in words. */
  readonly error?: string;
}

/**
 * Runs an argv on an SSH host in a process group of its own (groupWrapped). On timeout a
 * second exec on the same connection kills that group — closing the channel alone would
 * leave the command (an `rsync`, a `find -delete`) running on the host. Never rejects: a
 * failed SSH exec is the result's `error`, once the kill has been tried.
 */
export async function runInOwnGroup(
  runner: CommandRunner,
  argv: readonly string[],
  opts: GroupRunOptions,
): Promise<GroupRunResult> {
  const head = { text: '', pgid: undefined as number | undefined, done: false };
  const onStdout = (chunk: Buffer) => {
    if (head.done) return opts.onStdout(chunk);
    // The marker line comes first; everything after it is the command's own output.
    head.text += chunk.toString('latin1');
    const nl = head.text.indexOf('\n');
    if (nl < 0 && head.text.length < 256) return;
    head.done = true;
    const line = nl < 0 ? head.text : head.text.slice(0, nl);
    const m = line.startsWith(PGID_MARKER) ? /^\d+$/.exec(line.slice(PGID_MARKER.length)) : null;
    if (m) head.pgid = Number(m[0]);
    const rest = Buffer.from(m && nl >= 0 ? head.text.slice(nl + 1) : head.text, 'latin1');
    if (rest.length > 0) opts.onStdout(rest);
  };
  let timedOut = false;
  let killed: Promise<void> | undefined;
  const timer = opts.clock.setTimeout(() => {
    timedOut = true;
    killed = killGroup(runner, head.pgid, opts);
  }, opts.timeoutMs);
  try {
    const r = await runner.exec(groupWrapped(argv), {
      timeoutMs: opts.timeoutMs + EXEC_SLACK_MS,
      maxOutputBytes: Number.MAX_SAFE_INTEGER,
      onStdout,
    });
    if (r.stdout.length > 0) onStdout(r.stdout);
    return { code: r.code, signal: r.signal, stderr: r.stderr, timedOut };
  } catch (err) {
    return { code: null, signal: null, stderr: '', timedOut, error: errorMessage(err) };
  } finally {
    opts.clock.clearTimeout(timer);
    await killed;
  }
}

async function killGroup(
  runner: CommandRunner,
  pgid: number | undefined,
  opts: GroupRunOptions,
): Promise<void> {
  if (pgid === undefined) {
    opts.log.warn(`${opts.what} timed out before its process group was known: nothing to kill`);
    return;
  }
  try {
    await runner.exec(killGroupCommand(pgid), { timeoutMs: KILL_TIMEOUT_MS });
  } catch (err) {
    opts.log.warn({ pgid, err: errorMessage(err) }, `could not kill the timed-out ${opts.what}`);
  }
}
