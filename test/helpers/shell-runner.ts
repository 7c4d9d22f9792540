import { spawn } from 'node:child_process';
import { OutpostError } from '../../src/core/errors.js';
import type { CommandRunner, ExecResult } from '../../src/hosts/ssh-connection.js';

/**
 * A CommandRunner that runs the command string through `/bin/sh -c`, as sshd hands it to
 * the login shell, without SSH in between. The shell leads its own process group, so a
 * timeout kills what it started too (a fake engine's `sleep`). `streaming`: stdout goes to
 * `onStdout` when the caller asks, as SshConnection does; `env`: added to this process's.
 */
export function shellRunner(
  opts: { streaming?: boolean; env?: Record<string, string> } = {},
): CommandRunner {
  return {
    exec: (command, execOpts) =>
      new Promise<ExecResult>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', command], {
          detached: true,
          env: { ...process.env, ...opts.env },
        });
        const out: Buffer[] = [];
        let stderr = '';
        const onStdout = opts.streaming ? execOpts.onStdout : undefined;
        child.stdout.on('data', (c: Buffer) => (onStdout ? onStdout(c) : out.push(c)));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => {
          process.kill(-child.pid!, 'SIGKILL');
          reject(new OutpostError('TIMEOUT', 'timed out', { retryable: true }));
        }, execOpts.timeoutMs);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ stdout: Buffer.concat(out), stderr, code, signal });
        });
      }),
  };
}
