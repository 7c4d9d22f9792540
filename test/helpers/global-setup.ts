import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_SERVERS, ensureServers } from './apt.js';
import { PID_REGISTRY_ENV, runningRegistered } from './pid-registry.js';
import { isPidAlive, killProcessesUsing, waitPidGone } from './process.js';
import { removeTempDir } from './tmp.js';

/**
 * vitest globalSetup: installs the test servers once on a fresh Debian machine; the returned
 * teardown kills any server a test left running (and says so) and removes its temp dir.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await ensureServers(ALL_SERVERS);
  // Workers are started after this runs, so they inherit the variable.
  const registry = mkdtempSync(join(tmpdir(), 'outpost-test-pids-'));
  process.env[PID_REGISTRY_ENV] = registry;
  return async () => {
    const leftovers = runningRegistered(registry);
    for (const { pid, name, dir } of leftovers) {
      console.warn(`test server left running, killing it: ${name} (pid ${pid}, dir ${dir})`);
      // No grace: a leaked dockerd would spend seconds stopping each container. The server's
      // cwd is its dir, so it is among the processes using the dir, with its containers.
      await killProcessesUsing(dir);
      if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
      await waitPidGone(pid, 5_000);
      await removeTempDir(dir);
    }
    rmSync(registry, { recursive: true, force: true });
  };
}
