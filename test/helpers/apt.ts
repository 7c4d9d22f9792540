import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The servers the integration tests start. */
export type ServerName = 'mosquitto' | 'sshd' | 'influxd' | 'dockerd' | 'podman' | 'ping' | 'rsync';

export const ALL_SERVERS: readonly ServerName[] = [
  'mosquitto',
  'sshd',
  'influxd',
  'dockerd',
  'podman',
  'ping',
  'rsync',
];

interface Requirement {
  /** What is checked, for messages. */
  what: string;
  /** The Debian package that provides it. */
  pkg: string;
  present: () => Promise<boolean>;
}

const bin = (name: string, pkg: string): Requirement => ({
  what: name,
  pkg,
  present: async () => (await findBinary(name)) !== undefined,
});

// Debian's dynamic `busybox` package also ships /bin/busybox, but a container rootfs
// holding only that binary needs the static build.
const staticBusybox: Requirement = {
  what: 'static busybox',
  pkg: 'busybox-static',
  present: async () => {
    const path = await findBinary('busybox');
    if (path === undefined) return false;
    const out = await execFileAsync('ldd', [path]).catch(
      (err: { stdout?: string; stderr?: string }) => err,
    );
    return /not a dynamic executable|statically linked/.test(`${out.stdout}${out.stderr}`);
  },
};

const REQUIREMENTS: Record<ServerName, Requirement[]> = {
  // The watchdog's ping check runs the system's ping (not a server, but installed alike).
  ping: [bin('ping', 'iputils-ping')],
  mosquitto: [
    bin('mosquitto', 'mosquitto'),
    bin('mosquitto_passwd', 'mosquitto'),
    bin('mosquitto_pub', 'mosquitto-clients'),
    bin('openssl', 'openssl'),
  ],
  sshd: [bin('sshd', 'openssh-server'), bin('ssh-keygen', 'openssh-client')],
  influxd: [bin('influxd', 'influxdb')],
  // Not a server: the backup tool a remote backup job runs (issue #17).
  rsync: [bin('rsync', 'rsync')],
  dockerd: [
    bin('dockerd', 'docker.io'),
    bin('containerd', 'containerd'),
    bin('tar', 'tar'),
    staticBusybox,
  ],
  podman: [
    bin('podman', 'podman'),
    bin('runc', 'runc'),
    bin('conmon', 'conmon'),
    bin('catatonit', 'catatonit'),
    {
      what: 'CNI plugins',
      pkg: 'containernetworking-plugins',
      present: () => Promise.resolve(existsSync('/usr/lib/cni/loopback')),
    },
    bin('tar', 'tar'),
    staticBusybox,
  ],
};

// sbin is often missing from a non-root PATH, yet sshd and dockerd live there.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable on PATH (or in an sbin dir), or undefined. */
export async function findBinary(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    if (await isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Like findBinary, but throws naming the package when it is missing. */
export async function requireBinary(name: string): Promise<string> {
  const path = await findBinary(name);
  if (path !== undefined) return path;
  const known = Object.values(REQUIREMENTS).flat();
  const pkg = known.find((r) => r.what === name)?.pkg ?? name;
  throw new Error(`${name} not found; install it with: ${aptCommand([pkg])}`);
}

function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

let updated: Promise<void> | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes sure the binaries the given servers need are installed. When some are missing and
 * this is root on Debian, apt-get installs them (apt-get update runs once per process first);
 * otherwise it throws with the exact apt command that would.
 */
export function ensureServers(names: readonly ServerName[]): Promise<void> {
  // Serialized: two concurrent installs would fight over the dpkg lock.
  const run = queue.then(() => ensureNow(names));
  queue = run.catch(() => undefined);
  return run;
}

async function ensureNow(names: readonly ServerName[]): Promise<void> {
  const missing = await missingRequirements(names);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((r) => r.pkg))];
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync('/etc/debian_version')) {
    const what = missing.map((r) => r.what).join(', ');
    throw new Error(`test servers need ${what}; install them with: ${aptCommand(pkgs)}`);
  }
  await aptInstall(pkgs);
  const still = await missingRequirements(names);
  if (still.length > 0) {
    throw new Error(`still missing after apt-get install: ${still.map((r) => r.what).join(', ')}`);
  }
}

async function missingRequirements(names: readonly ServerName[]): Promise<Requirement[]> {
  const reqs = [...new Set(names.flatMap((n) => REQUIREMENTS[n]))];
  const present = await Promise.all(reqs.map((r) => r.present()));
  return reqs.filter((_r, i) => !present[i]);
}

function aptCommand(pkgs: readonly string[]): string {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return (
    `${sudo}apt-get update && ${sudo}env DEBIAN_FRONTEND=noninteractive ` +
    `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`
  );
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

async function aptInstall(pkgs: readonly string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for a dpkg lock held by another apt run instead of failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  updated ??= apt(['update', ...lock], env).catch((err: unknown) => {
    updated = undefined;
    throw err;
  });
  await updated;
  // Without a policy-rc.d, installing docker.io or mosquitto would also start the system
  // daemons (docker0 bridge, iptables rules, port 1883); the tests start their own.
  const addedPolicy = !existsSync(POLICY_RC_D);
  if (addedPolicy) await writeFile(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    await apt(['install', '-y', '--no-install-recommends', ...lock, ...pkgs], env);
  } finally {
    if (addedPolicy) await rm(POLICY_RC_D, { force: true });
  }
}

async function apt(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await execFileAsync('apt-get', args, { env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').slice(-20).join('\n');
    throw new Error(`apt-get ${args.join(' ')} failed: ${e.message}\n${tail}`);
  }
}
