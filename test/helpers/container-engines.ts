import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureServers, requireBinary } from './apt.js';
import { buildBusyboxRootfs } from './busybox-rootfs.js';
import { ensureJournald, type Journald } from './journald.js';
import { startProcess, killProcessesUsing, type ServerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';
import { unixHttp, unixHttpJson } from './unix-http.js';

export type EngineKind = 'docker' | 'podman';

/** A container engine serving the Docker-compatible API on a unix socket. */
export interface ContainerEngine {
  kind: EngineKind;
  socketPath: string;
  dir: string;
  /** The imported busybox image; it has no network, so run containers with NetworkMode "none". */
  imageRef: string;
  pid: number;
  logFile: string;
  /** Environment for the engine's CLI (`docker` / `podman`) to reach this instance. */
  cliEnv: Record<string, string>;
  /** Removes all containers, stops the daemon by PID and removes its temp dir. */
  stop(): Promise<void>;
}

// dockerd is ready in ~0.5 s here, but it first starts its own containerd, which can take
// tens of seconds on a loaded machine.
const DOCKERD_READY_MS = 90_000;
const PODMAN_READY_MS = 30_000;

/** Starts a real dockerd (docker.io 20.10): vfs storage, no bridge, no iptables. */
export async function startDockerd(): Promise<ContainerEngine> {
  await ensureServers(['dockerd']);
  const dir = await makeTempDir('dockerd');
  const socketPath = join(dir, 'docker.sock');
  const cliEnv = { DOCKER_HOST: `unix://${socketPath}` };
  return startEngine(
    { kind: 'docker', dir, socketPath, imageRef: 'busybox:test', cliEnv },
    async () => {
      const config = join(dir, 'daemon.json');
      // An own config file, so the host's /etc/docker/daemon.json does not apply, and the
      // trust key goes to our dir instead of /etc/docker/key.json.
      await writeFile(config, JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') }));
      return startProcess({
        name: 'dockerd',
        command: await requireBinary('dockerd'),
        args: [
          `--host=unix://${socketPath}`,
          `--data-root=${join(dir, 'data')}`,
          `--exec-root=${join(dir, 'exec')}`,
          `--pidfile=${join(dir, 'dockerd.pid')}`,
          `--config-file=${config}`,
          '--iptables=false',
          '--ip6tables=false',
          '--bridge=none',
          '--storage-driver=vfs',
        ],
        dir,
        ready: { kind: 'unix-http', socketPath },
        timeoutMs: DOCKERD_READY_MS,
      });
    },
  );
}

/** Where podman writes its events and reads them back for its /events stream. */
export type PodmanEventsLogger = 'file' | 'journald';

export interface PodmanOptions {
  /**
   * `file` (default): a file in the temp dir, read back by polling every 250 ms. `journald`:
   * the machine's journal, through the live systemd-journald or one started for it (root;
   * stopped with the engine). The journal is shared by the whole machine, so `journald` is
   * for the bench, which runs alone, not for tests running in parallel.
   */
  eventsLogger?: PodmanEventsLogger;
  /**
   * `file` only: `events_logfile_max_size`, past which podman rotates its events file
   * (default podman's own, 1m); e.g. "4k" to see it rotate within a test.
   */
  eventsMaxSize?: string;
}

/** Starts `podman system service` (podman 4.3) with its own config and storage in a temp dir. */
export async function startPodman(opts: PodmanOptions = {}): Promise<ContainerEngine> {
  const eventsLogger = opts.eventsLogger ?? 'file';
  await ensureServers(['podman']);
  const journald: Journald | undefined =
    eventsLogger === 'journald' ? await ensureJournald() : undefined;
  const dir = await makeTempDir('podman');
  const socketPath = join(dir, 'podman.sock');
  const cliEnv = {
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
  };
  const imageRef = 'localhost/busybox:test';
  try {
    const engine = await startEngine(
      { kind: 'podman', dir, socketPath, imageRef, cliEnv },
      async () => {
        await writePodmanConfig(dir, cliEnv, eventsLogger, opts.eventsMaxSize);
        return startProcess({
          name: 'podman',
          command: await requireBinary('podman'),
          args: ['system', 'service', '--time=0', `unix://${socketPath}`],
          dir,
          env: cliEnv,
          ready: { kind: 'unix-http', socketPath },
          timeoutMs: PODMAN_READY_MS,
        });
      },
    );
    if (!journald) return engine;
    return {
      ...engine,
      stop: async () => {
        await engine.stop();
        await journald.stop();
      },
    };
  } catch (err) {
    await journald?.stop();
    throw err;
  }
}

/** The events backend a running podman service reports it uses (`podman info`). */
export async function podmanEventsLogger(engine: ContainerEngine): Promise<string> {
  const info = await unixHttpJson<{ host: { eventLogger: string } }>(
    engine.socketPath,
    '/v4.0.0/libpod/info',
  );
  return info.host.eventLogger;
}

type EngineSetup = Pick<ContainerEngine, 'kind' | 'dir' | 'socketPath' | 'imageRef' | 'cliEnv'>;

/** Builds the image tarball, launches the daemon, imports the image; cleans up on failure. */
async function startEngine(
  setup: EngineSetup,
  launch: () => Promise<ServerProcess>,
): Promise<ContainerEngine> {
  const { dir, socketPath, imageRef } = setup;
  let proc: ServerProcess | undefined;
  const stop = async () => {
    if (proc && !proc.exited) {
      // Removing containers first lets runc, conmon and the containerd shims exit.
      await removeAllContainers(socketPath).catch(() => undefined);
      await proc.stop();
    }
    // Should a removal have failed: containers and shims are not the daemon's descendants.
    await killProcessesUsing(dir);
    // Also unmounts what the daemon left mounted: dockerd's exec/netns/default bind mount.
    await removeTempDir(dir);
  };
  try {
    const tarball = await buildBusyboxRootfs(dir);
    proc = await launch();
    await importImage(socketPath, tarball, imageRef);
    return { ...setup, pid: proc.pid, logFile: proc.logFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function importImage(socketPath: string, tarball: string, imageRef: string): Promise<void> {
  // The tag goes in `repo`: podman ignores the `tag` parameter of an import.
  const query = new URLSearchParams({ fromSrc: '-', repo: imageRef, changes: 'CMD ["/bin/sh"]' });
  const res = await unixHttp(socketPath, `/images/create?${query.toString()}`, {
    method: 'POST',
    body: createReadStream(tarball),
    contentType: 'application/x-tar',
    timeoutMs: 120_000,
  });
  // The answer is a stream of JSON progress lines; a failure may still come with status 200.
  if (res.status !== 200 || /"error/i.test(res.body)) {
    throw new Error(`importing ${imageRef} failed (${res.status}): ${res.body.slice(0, 500)}`);
  }
  await unixHttpJson(socketPath, `/images/${imageRef}/json`);
}

async function removeAllContainers(socketPath: string): Promise<void> {
  const containers = await unixHttpJson<{ Id: string }[]>(socketPath, '/containers/json?all=true');
  for (const { Id } of containers) {
    await unixHttp(socketPath, `/containers/${Id}?force=true&v=true`, { method: 'DELETE' });
  }
}

async function writePodmanConfig(
  dir: string,
  files: { CONTAINERS_CONF: string; CONTAINERS_STORAGE_CONF: string },
  eventsLogger: PodmanEventsLogger,
  eventsMaxSize?: string,
): Promise<void> {
  const networks = join(dir, 'networks');
  await mkdir(networks);
  // Every path podman writes to is inside `dir`, so two instances do not share state.
  await writeFile(
    files.CONTAINERS_CONF,
    `[containers]
# No CAP_SYS_RESOURCE here: rlimits must stay below the hard limits.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
# Never podman's default bridge: it adds a 10.88.0.0/16 interface and iptables rules.
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "${eventsLogger}"
${eventsLogger === 'file' ? `events_logfile_path = "${join(dir, 'events.log')}"` : ''}
${eventsLogger === 'file' && eventsMaxSize ? `events_logfile_max_size = "${eventsMaxSize}"` : ''}
# crun 1.8 fails here ("cgroups in hybrid mode not supported"); runc works.
runtime = "runc"
tmp_dir = "${join(dir, 'tmp')}"
static_dir = "${join(dir, 'storage', 'libpod')}"
volume_path = "${join(dir, 'volumes')}"
# The default shm lock segment is shared by all podman instances of the machine.
lock_type = "file"

[network]
network_config_dir = "${networks}"
`,
  );
  await writeFile(
    files.CONTAINERS_STORAGE_CONF,
    `[storage]
driver = "vfs"
runroot = "${join(dir, 'run')}"
graphroot = "${join(dir, 'storage')}"
`,
  );
}
