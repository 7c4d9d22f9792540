import { execFile } from 'node:child_process';
import { mkdir, readFile, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, LAUNCHER, spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { readLauncher } from '../../helpers/launcher.js';
import { getFreePort } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

/**
 * The agent under test is the agent that ships: spawnAgent starts it through bin/outpost,
 * and the running process carries exactly the environment and node flags the launcher
 * defines (read from the launcher, not repeated here), as node itself — the launcher's
 * shell is gone, so signals reach the agent.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const launcher = readLauncher(ROOT);
const execFileAsync = promisify(execFile);

/** A NUL-separated /proc file as its entries. */
async function procList(pid: number, file: 'cmdline' | 'environ'): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/${file}`, 'utf8');
  return text.split('\0').slice(0, -1);
}

/** Field 4 of /proc/PID/stat, after "pid (comm) state". */
async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const agents: AgentProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.cleanup();
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

describe('the launcher (bin/outpost)', () => {
  it('runs the agent as node itself, with the flags and environment it defines', async () => {
    const port = await getFreePort();
    const configYaml = (dir: string) =>
      `node: { id: launched }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n`;
    const a = await spawnAgent(configYaml);
    agents.push(a);
    await a.running(15_000);
    const pid = a.child.pid!;

    // exec: the pid spawnAgent started is node now, a child of this test, no shell between.
    expect((await readFile(`/proc/${pid}/comm`, 'utf8')).trim()).toBe('node');
    expect(basename(await readlink(`/proc/${pid}/exe`))).toMatch(/^node/);
    expect(await parentPid(pid)).toBe(process.pid);

    const argv = await procList(pid, 'cmdline');
    expect(argv[0]).toBe('node');
    expect(argv.slice(1, 1 + launcher.flags.length)).toEqual(launcher.flags);
    const rest = argv.slice(1 + launcher.flags.length);
    expect(await realpath(rest[0]!)).toBe(await realpath(CLI));
    expect(rest.slice(1)).toEqual(['run', '--config', a.configFile]);

    const environ = new Map(
      (await procList(pid, 'environ')).map((kv) => {
        const eq = kv.indexOf('=');
        return [kv.slice(0, eq), kv.slice(eq + 1)] as const;
      }),
    );
    for (const [name, value] of Object.entries(launcher.env)) {
      expect(environ.get(name), name).toBe(value);
    }

    // The signal reached the agent, not a shell that would die of it: a clean exit 0.
    const stopped = await a.stop('SIGTERM');
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(a.output()).not.toContain('stop took too long');
  });

  it('finds the agent through npm-style bin symlinks and passes arguments intact', async () => {
    const dir = await makeTempDir('launcher');
    dirs.push(dir);
    // npm installs: node_modules/outpost (the package) and node_modules/.bin/outpost, a
    // relative link to ../outpost/bin/outpost. Here the package is a link to this checkout.
    await mkdir(join(dir, 'node_modules', '.bin'), { recursive: true });
    await symlink(ROOT, join(dir, 'node_modules', 'outpost'));
    const bin = join(dir, 'node_modules', '.bin', 'outpost');
    await symlink('../outpost/bin/outpost', bin);
    const config = join(dir, 'a dir with spaces', 'config.yaml');
    await mkdir(dirname(config));
    await writeFile(config, 'node: { id: linked }\n');

    const { stdout } = await execFileAsync(bin, ['check-config', config], {
      cwd: dir,
      env: { PATH: process.env.PATH },
    });
    expect(stdout.trim()).toBe(`${config}: OK (node linked, broker embedded, 1 host(s))`);
    expect(await realpath(bin)).toBe(await realpath(LAUNCHER));
  });
});
