import { execFile } from 'node:child_process';
import { OutpostError } from '../../core/errors.js';
import { shJoin } from '../../hosts/shell-quote.js';
import type { CommandRunner } from '../../hosts/ssh-connection.js';

/** Runs one of the fixed scripts (size, age) and returns its stdout. */
export type Probe = (argv: readonly string[], timeoutMs: number) => Promise<string>;

const MAX_OUTPUT = 64 * 1024;

/** On this machine: no shell between the agent and the argv. */
export const localProbe: Probe = (argv, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: timeoutMs, maxBuffer: MAX_OUTPUT, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) reject(new OutpostError('INTERNAL', `${err.message} ${stderr}`.trim()));
        else resolve(stdout);
      },
    );
  });

/** Over SSH: the argv quoted word by word for the remote shell. */
export function remoteProbe(runner: CommandRunner): Probe {
  return async (argv, timeoutMs) => {
    const r = await runner.exec(shJoin(argv), { timeoutMs, maxOutputBytes: MAX_OUTPUT });
    if (r.code !== 0) {
      throw new OutpostError('INTERNAL', `exit code ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
    }
    return r.stdout.toString('utf8');
  };
}
