import { spawn } from 'node:child_process';
import { OutpostError } from '../core/errors.js';

export interface RunArgvOptions {
  readonly timeoutMs: number;
  /** Output beyond this is cut off and the run reported as failed (default 8 MiB). */
  readonly maxOutputBytes?: number;
}

export interface RunArgvResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  /** Null when a signal ended it. */
  readonly code: number | null;
  readonly signal: string | null;
}

const MAX_STDERR = 64 * 1024;

/**
 * Runs a program on this machine from an argv, never through a shell, so no word of it
 * can be split or expanded. It runs in a process group of its own: on its timeout the
 * whole group is killed, so a child it started (a `sh -c "sleep 30"`, a docker CLI's
 * helper) does not outlive it. A program that is not there rejects with ENOENT in
 * `cause` (the caller may treat "absent" apart from "failed").
 */
export function runArgv(argv: readonly string[], opts: RunArgvOptions): Promise<RunArgvResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new OutpostError('INTERNAL', 'empty argv'));
  const max = opts.maxOutputBytes ?? 8 * 1024 * 1024;
  return new Promise<RunArgvResult>((resolve, reject) => {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: OutpostError | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      failure = new OutpostError('TIMEOUT', `${file}: no result within ${opts.timeoutMs} ms`, {
        retryable: true,
      });
      killGroup();
    }, opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
      else if (!failure) {
        failure = new OutpostError('ENGINE_BAD_OUTPUT', `${file}: output over ${max} bytes`);
        killGroup();
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += c.toString();
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      resolve({ stdout: Buffer.concat(chunks), stderr, code, signal });
    });
  });
}

/** Whether runArgv failed because the program is not installed. */
export function isMissingProgram(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
