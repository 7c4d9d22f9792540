import { spawn } from 'node:child_process';

/** How a program run by runInGroup ended. */
export interface GroupRun {
  /** The exit code; null when it was killed or never started. */
  readonly code: number | null;
  /** Why it did not run or finish: spawn error (ENOENT), or the abort. */
  readonly error?: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** The most of each stream kept: a check's verdict needs its last line, not a log. */
const KEEP_BYTES = 64 * 1024;

/**
 * Runs `file` with `args` (no shell: nothing in them is reinterpreted) as the leader of a
 * process group of its own, and on `signal` kills the whole group with SIGKILL. Killing the
 * leader alone leaves its children running: `sh -c "sleep 30; …"` outlived the check's
 * timeout by its `sleep` (issue #16, point 6). It resolves when the streams close, so a
 * child that inherited them and lives on holds the run until the abort kills it too.
 */
export function runInGroup(
  file: string,
  args: readonly string[],
  signal: AbortSignal,
  env?: NodeJS.ProcessEnv,
): Promise<GroupRun> {
  return new Promise<GroupRun>((resolve) => {
    if (signal.aborted) {
      resolve({ code: null, error: 'aborted before it started', stdout: '', stderr: '' });
      return;
    }
    const child = spawn(file, [...args], {
      detached: true, // its own process group, with its pid as the group id
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      ...(env ? { env } : {}),
    });
    const out: string[] = [];
    const err: string[] = [];
    let kept = 0;
    const keep = (into: string[]) => (chunk: Buffer) => {
      if (kept >= KEEP_BYTES) return;
      kept += chunk.length;
      into.push(chunk.toString());
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      killGroup(child.pid);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let failed: string | undefined;
    child.once('error', (e) => (failed = e.message));
    child.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      const error = aborted ? 'aborted: its process group was killed' : failed;
      resolve({
        code: error !== undefined ? null : code,
        ...(error !== undefined ? { error } : {}),
        stdout: out.join(''),
        stderr: err.join(''),
      });
    });
  });
}

/** SIGKILL to every process of the group led by `pid`; a group already gone is fine. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return; // never started (ENOENT): nothing to kill
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
