import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A FAKE engine CLI (named as such, TESTING.md: a fake only where the real thing cannot
 * serve the case): a POSIX sh script that answers `ps -aq --no-trunc` and `inspect ID…`
 * with canned JSON in the shape `docker inspect` prints (with `--format`: the fields the
 * agent's INSPECT_FORMAT template picks, one object per line). It stands in for docker where a
 * real engine cannot misbehave on demand (truncated output, hangs) and where 50 hosts ×
 * 100 containers are needed (the bench). A `mode` file beside it switches behaviour
 * between polls.
 */

export type FakeMode =
  | 'normal'
  /** inspect prints the first 200 bytes only */
  | 'truncated'
  /** inspect prints text that is not JSON */
  | 'garbage'
  /** inspect never answers */
  | 'hang'
  /** ps fails like a stopped daemon */
  | 'psfail'
  /** ps lists something that is not a container id */
  | 'badid';

export interface FakeEngine {
  readonly dir: string;
  /** The engine command (argv) for `hosts[].engine.command`. */
  readonly command: string[];
  setMode(mode: FakeMode): Promise<void>;
  setContainers(records: readonly object[]): Promise<void>;
  /** PIDs of `hang`s the script started that are still running. */
  hungAlive(): Promise<number[]>;
  /** Kills, by PID, every `hang` the script started that is still running. */
  killHung(): Promise<void>;
}

const SCRIPT = `#!/bin/sh
d=$(dirname "$0")
mode=$(cat "$d/mode")
case "$1" in
  ps)
    case $mode in
      psfail) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1;;
      badid) echo 'abc;touch /tmp/outpost-pwned'; exit 0;;
    esac
    cat "$d/ids";;
  inspect)
    out="$d/inspect.json"
    if [ "$2" = --format ]; then out="$d/inspect.jsonl"; fi
    case $mode in
      hang) echo $$ >> "$d/hung.pids"; exec sleep 20;;
      truncated) head -c 200 "$out"; exit 0;;
      garbage) echo 'Error response from daemon: this is not JSON'; exit 0;;
    esac
    cat "$out";;
  *) echo "fake engine: unknown command $1" >&2; exit 2;;
esac
`;

/** Writes the script and its data into `dir` (which must be traversable by the SSH user). */
export async function createFakeEngine(
  dir: string,
  records: readonly object[],
  name = 'fake-docker',
): Promise<FakeEngine> {
  const script = join(dir, name);
  await writeFile(script, SCRIPT);
  await chmod(script, 0o755);
  const engine: FakeEngine = {
    dir,
    command: [script],
    setMode: async (mode) => {
      await writeFile(join(dir, 'mode'), `${mode}\n`);
      await chmod(join(dir, 'mode'), 0o644);
    },
    hungAlive: async () => {
      const text = await readFile(join(dir, 'hung.pids'), 'utf8').catch(() => '');
      // Only a sleep still running: a PID may have been reused since.
      return text
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0');
          } catch {
            return false;
          }
        });
    },
    killHung: async () => {
      for (const pid of await engine.hungAlive()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    },
    setContainers: async (list) => {
      const ids = list.map((r) => (r as { Id: string }).Id).join('\n');
      await writeFile(join(dir, 'ids'), list.length > 0 ? `${ids}\n` : '');
      await writeFile(join(dir, 'inspect.json'), JSON.stringify(list, null, 4));
      await writeFile(join(dir, 'inspect.jsonl'), list.map((r) => `${formatted(r)}\n`).join(''));
      for (const f of ['ids', 'inspect.json', 'inspect.jsonl']) await chmod(join(dir, f), 0o644);
    },
  };
  // The SSH user appends here, so it must be writable by it.
  await writeFile(join(dir, 'hung.pids'), '');
  await chmod(join(dir, 'hung.pids'), 0o666);
  await engine.setMode('normal');
  await engine.setContainers(records);
  return engine;
}

/** What INSPECT_FORMAT makes a real engine print for `record`, as docker does. */
function formatted(record: object): string {
  const r = record as {
    Id?: unknown;
    Name?: unknown;
    Created?: unknown;
    RestartCount?: unknown;
    Image?: unknown;
    Config?: { Image?: unknown; Labels?: unknown };
    State?: unknown;
  };
  return JSON.stringify({
    Id: r.Id ?? null,
    Name: r.Name ?? null,
    Created: r.Created ?? null,
    RestartCount: r.RestartCount ?? null,
    Image: r.Image ?? null,
    Config: { Image: r.Config?.Image ?? null, Labels: r.Config?.Labels ?? null },
    State: r.State ?? null,
  });
}

export interface CannedOptions {
  state?: 'running' | 'exited';
  health?: 'healthy' | 'unhealthy' | 'starting';
  labels?: Record<string, string>;
  exitCode?: number;
}

/** A 64-hex id derived from a name, so fixtures are stable. */
export function fakeId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/**
 * One `docker inspect` record with the fields docker 20.10 prints (about 4 KB pretty
 * printed, like a real one), so parsing costs what it costs in the field.
 */
export function cannedRecord(name: string, opts: CannedOptions = {}): object {
  const running = (opts.state ?? 'running') === 'running';
  const id = fakeId(name);
  return {
    Id: id,
    Created: '2026-11-01T10:00:00.000000000Z',
    Path: '/docker-entrypoint.sh',
    Args: ['/usr/sbin/mosquitto', '-c', '/mosquitto/config/mosquitto.conf'],
    State: {
      Status: running ? 'running' : 'exited',
      Running: running,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? 4242 : 0,
      ExitCode: running ? 0 : (opts.exitCode ?? 137),
      Error: '',
      StartedAt: '2026-11-20T08:00:00.123456789Z',
      FinishedAt: running ? '0001-01-01T00:00:00Z' : '2026-11-21T09:30:00.5Z',
      ...(opts.health
        ? {
            Health: {
              Status: opts.health,
              FailingStreak: opts.health === 'unhealthy' ? 3 : 0,
              Log: [
                {
                  Start: '2026-11-21T09:29:00Z',
                  End: '2026-11-21T09:29:01Z',
                  ExitCode: 0,
                  Output: 'ok',
                },
              ],
            },
          }
        : {}),
    },
    Image: `sha256:${fakeId(`image-${name}`)}`,
    ResolvConfPath: `/var/lib/docker/containers/${id}/resolv.conf`,
    HostnamePath: `/var/lib/docker/containers/${id}/hostname`,
    HostsPath: `/var/lib/docker/containers/${id}/hosts`,
    LogPath: `/var/lib/docker/containers/${id}/${id}-json.log`,
    Name: `/${name}`,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: 'docker-default',
    HostConfig: {
      Binds: [`/srv/${name}/data:/data:rw`],
      NetworkMode: 'bridge',
      PortBindings: { '1883/tcp': [{ HostIp: '', HostPort: '1883' }] },
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
      Memory: 268435456,
    },
    Mounts: [
      {
        Type: 'bind',
        Source: `/srv/${name}/data`,
        Destination: '/data',
        Mode: 'rw',
        RW: true,
        Propagation: 'rprivate',
      },
    ],
    Config: {
      Hostname: id.slice(0, 12),
      Domainname: '',
      User: '',
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TZ=UTC'],
      Cmd: ['/usr/sbin/mosquitto', '-c', '/mosquitto/config/mosquitto.conf'],
      Image: `example/${name}:1.0`,
      WorkingDir: '',
      Entrypoint: ['/docker-entrypoint.sh'],
      Labels: {
        'org.opencontainers.image.source': `https://example.invalid/${name}`,
        ...opts.labels,
      },
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: fakeId(`sandbox-${name}`),
      Ports: { '1883/tcp': [{ HostIp: '0.0.0.0', HostPort: '1883' }] },
      Networks: {
        bridge: {
          NetworkID: fakeId('bridge'),
          EndpointID: fakeId(`endpoint-${name}`),
          Gateway: '172.17.0.1',
          IPAddress: '172.17.0.2',
          IPPrefixLen: 16,
          MacAddress: '02:42:ac:11:00:02',
        },
      },
    },
  };
}

/** `count` containers, every tenth one exited and every seventh unhealthy. */
export function cannedHost(count: number, prefix = 'svc'): object[] {
  return Array.from({ length: count }, (_, i) =>
    cannedRecord(`${prefix}-${i}`, {
      state: i % 10 === 9 ? 'exited' : 'running',
      ...(i % 7 === 6 ? { health: 'unhealthy' as const } : {}),
    }),
  );
}
