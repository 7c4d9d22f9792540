import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerEngine } from '../../helpers/container-engines.js';
import { processesUsing } from '../../helpers/proc-fs.js';
import { isPidAlive } from '../../helpers/process.js';
import { unixHttp, unixHttpJson } from '../../helpers/unix-http.js';

const execFileAsync = promisify(execFile);

interface Inspect {
  Id: string;
  State: { Running: boolean; Status: string };
  HostConfig: { NetworkMode: string };
}

/** The same checks against dockerd and podman: ping, run a busybox container, stop cleanly. */
export function describeEngine(name: string, start: () => Promise<ContainerEngine>): void {
  describe(name, () => {
    let engine: ContainerEngine;

    beforeAll(async () => {
      engine = await start();
    }, 120_000);
    afterAll(async () => {
      await engine?.stop();
    });

    it('answers GET /_ping on its unix socket', async () => {
      const res = await unixHttp(engine.socketPath, '/_ping');
      expect(res.status).toBe(200);
      expect(res.body).toBe('OK');
    });

    it('creates, starts and inspects a busybox container with no network', async () => {
      const { Id } = await unixHttpJson<{ Id: string }>(
        engine.socketPath,
        '/containers/create?name=harness',
        {
          method: 'POST',
          body: {
            Image: engine.imageRef,
            Cmd: ['sleep', '300'],
            HostConfig: { NetworkMode: 'none' },
          },
        },
      );
      await unixHttpJson(engine.socketPath, `/containers/${Id}/start`, { method: 'POST' });
      const info = await unixHttpJson<Inspect>(engine.socketPath, `/containers/${Id}/json`);
      expect(info.State.Running).toBe(true);
      expect(info.HostConfig.NetworkMode).toBe('none');
    });

    it('lets its CLI reach the same instance through cliEnv', async () => {
      const { stdout } = await execFileAsync(engine.kind, ['ps', '--format', '{{.Names}}'], {
        env: { ...process.env, ...engine.cliEnv },
      });
      expect(stdout.trim()).toBe('harness');
    });

    it('stops the daemon by PID and leaves no container processes behind', async () => {
      const { pid, dir } = engine;
      // The container (its root is in the engine's dir) and its shim or conmon.
      expect(processesUsing(dir).filter((p) => p !== pid).length).toBeGreaterThan(0);
      await engine.stop();
      expect(isPidAlive(pid)).toBe(false);
      expect(processesUsing(dir)).toEqual([]);
    });
  });
}
