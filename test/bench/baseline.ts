import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Baselines run as a bare tool would: plain `node` (no launcher flags, no malloc settings,
 * no NODE_OPTIONS) in a process of their own, a script under test/bench/baselines/ built
 * into .bench-build/ beside the bench. The script prints one JSON line last on stdout:
 * its result. Its stderr goes to the bench's log.
 */

/** Environment a bare baseline must not inherit from the bench (which runs launched). */
const LAUNCH_ENV = /^(MALLOC_|NODE_OPTIONS$|OUTPOST_)/;

/**
 * Runs `.bench-build/test/bench/baselines/<script>.js` with `args` under plain node and
 * returns the JSON it printed last. Rejects when it exits non-zero or prints no JSON.
 */
export function runBaseline<T>(root: string, script: string, args: readonly string[]): Promise<T> {
  const file = join(root, '.bench-build', 'test', 'bench', 'baselines', `${script}.js`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !LAUNCH_ENV.test(k)) env[k] = v;
  }
  const child = spawn(process.execPath, [file, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`baseline ${script} exited with ${code ?? signal}`));
        return;
      }
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`baseline ${script} printed no JSON result: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** For a baseline script: prints its result as the one JSON line the bench reads. */
export function printResult(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
