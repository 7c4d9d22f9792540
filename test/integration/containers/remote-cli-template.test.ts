import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteEngine } from '../../../src/hosts/remote-engine.js';
import {
  startDockerd,
  startPodman,
  type ContainerEngine,
} from '../../helpers/container-engines.js';
import { shellRunner } from '../../helpers/shell-runner.js';
import { unixHttpJson } from '../../helpers/unix-http.js';
import { EngineActions } from './helpers.js';

/**
 * The remote path's inspect template (INSPECT_FORMAT) against the real CLIs: docker 20.10
 * and podman 4.3 must both print the fields the agent reads, the same as their API's full
 * inspect. (remote-ssh.test.ts runs the docker CLI over a real sshd; the template itself
 * does not care how the script got there, so here it runs through a local shell.)
 */

interface ApiInspect {
  Id: string;
  Name: string;
  RestartCount: number;
  Image: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Status: string; ExitCode: number; Health?: { Status: string } | null };
}

const cases: [string, () => Promise<ContainerEngine>, string[]][] = [
  ['docker', startDockerd, ['docker']],
  ['podman', startPodman, ['podman']],
];

describe.each(cases)('inspect template on the real %s CLI', (kind, start, cli) => {
  let engine: ContainerEngine;
  let ids: string[];

  beforeAll(async () => {
    engine = await start();
    const actions = new EngineActions(engine.socketPath, engine.imageRef);
    ids = [
      await actions.run('tmpl-web', {
        labels: { 'com.docker.compose.project': 'site', 'com.docker.compose.service': 'web' },
        healthcheck: { test: ['CMD', 'true'], intervalMs: 500, retries: 1 },
      }),
      await actions.run('tmpl-plain', { start: false }),
    ];
    // Settled first, so the CLI and the API cannot see the health check in different states.
    // podman runs health checks from systemd timers, which this harness has not: its
    // status stays `starting`.
    const settled = kind === 'podman' ? 'starting' : 'healthy';
    const deadline = Date.now() + 60_000;
    for (;;) {
      const web = await unixHttpJson<ApiInspect>(engine.socketPath, `/containers/${ids[0]}/json`);
      if (web.State.Health?.Status === settled) break;
      if (Date.now() > deadline) throw new Error(`health check never passed: ${web.State.Status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);
  afterAll(async () => engine?.stop());

  it('prints what the API inspect says, for every field the agent reads', async () => {
    const remote = new RemoteEngine({
      runner: shellRunner({ env: engine.cliEnv, streaming: true }),
      command: kind === 'docker' ? [...cli, '-H', `unix://${engine.socketPath}`] : cli,
      timeoutMs: 30_000,
      source: kind,
    });
    const listing = await remote.listAll();
    expect(listing.engine).toBe(kind);
    const byId = new Map(listing.records.map((r) => [r.Id, r]));
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const api = await unixHttpJson<ApiInspect>(engine.socketPath, `/containers/${id}/json`);
      const r = byId.get(id)!;
      expect({
        name: r.Name.replace(/^\//, ''),
        status: r.State.Status,
        exit: r.State.ExitCode,
        health: r.State.Health?.Status ?? r.State.Healthcheck?.Status ?? null,
        restarts: r.RestartCount,
        image: r.Config.Image,
        labels: r.Config.Labels ?? {},
      }).toEqual({
        name: api.Name.replace(/^\//, ''),
        status: api.State.Status,
        exit: api.State.ExitCode,
        health: api.State.Health?.Status ?? null,
        restarts: api.RestartCount,
        image: api.Config.Image,
        labels: api.Config.Labels ?? {},
      });
    }
  });
});
