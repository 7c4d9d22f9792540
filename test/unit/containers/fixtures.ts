/**
 * Inspect records as the engines here printed them (docker 20.10 API and CLI, podman 4.3
 * Docker-compatible API and its own CLI), trimmed to the fields outpost reads plus a few
 * it ignores. Captured from the real engines started by test/helpers/container-engines.ts.
 */

export const DOCKER_ID = 'a1b490c798a2b62dfe9653885c3dbd6533f5afe8e2943cd9991a4ab17cfae0f5';
export const PODMAN_ID = 'd9d95870f9375615e4cc8ab28075cb594e8652f4ac44154f905aa4bf9b371e42';

export function dockerApiRecord(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Id: DOCKER_ID,
    Created: '2026-11-22T01:54:12.9Z',
    Name: '/hc',
    RestartCount: 0,
    Image: 'sha256:bcb33cf688bfa73820c3e137569b541864c0ab9caeec541eecdb2400b8a3c8cb',
    State: {
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 29344,
      ExitCode: 0,
      Error: '',
      StartedAt: '2026-11-22T01:54:13.403736199Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      Health: {
        Status: 'unhealthy',
        FailingStreak: 2,
        Log: [
          { Start: '2026-11-22T01:54:14Z', End: '2026-11-22T01:54:14Z', ExitCode: 1, Output: '' },
        ],
      },
    },
    Config: {
      Image: 'busybox:test',
      Labels: { a: 'b', 'com.docker.compose.project': 'p' },
    },
    HostConfig: { NetworkMode: 'none' },
    ...over,
  };
}

export function podmanCliRecord(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Id: PODMAN_ID,
    Created: '2026-11-22T01:54:21.4Z',
    Name: 'hc',
    RestartCount: 0,
    Image: 'ef0bb9f80a751c1d89ed6a74655e1ed424cfe3c249ade129927017f1a81da556',
    ImageName: 'localhost/busybox:test',
    State: {
      OciVersion: '1.0.2-dev',
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 29644,
      ConmonPid: 29633,
      ExitCode: 0,
      Error: '',
      StartedAt: '2026-11-22T01:54:21.556603594Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      Health: { Status: 'unhealthy', FailingStreak: 1, Log: [] },
      CgroupPath: '/libpod_parent/libpod-d9d9',
    },
    Config: {
      Image: 'localhost/busybox:test',
      Labels: { a: 'b', 'com.docker.compose.project': 'p' },
    },
    ...over,
  };
}

/** podman's own CLI before 4.x wrote the healthcheck under State.Healthcheck. */
export function olderPodmanRecord(): Record<string, unknown> {
  const r = podmanCliRecord();
  const { Health: health, ...state } = r.State as Record<string, unknown>;
  return { ...r, State: { ...state, Healthcheck: health, Status: 'stopped', Running: false } };
}

export function withState(
  record: Record<string, unknown>,
  state: Record<string, unknown>,
): Record<string, unknown> {
  return { ...record, State: { ...(record.State as object), ...state } };
}
