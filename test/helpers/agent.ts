import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { agentEntryPath, launcherPath } from './launcher.js';
import { waitUntil } from './mqtt.js';
import { getFreePort } from './ports.js';
import { makeTempDir, removeTempDir } from './tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** The built CLI: `npm test` builds before running vitest. */
export const CLI = agentEntryPath(ROOT);
/** bin/outpost: the agent is started as it ships, through its launcher. */
export const LAUNCHER = launcherPath(ROOT);

export interface AgentProcess {
  child: ChildProcess;
  dir: string;
  configFile: string;
  /** Everything the agent wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once the agent logged `outpost running`; rejects after `timeoutMs`. */
  running(timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit: code, signal and how long it took. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  cleanup(): Promise<void>;
}

/**
 * Runs `outpost run` through the launcher (its node flags and environment, as users run
 * it) as a child process with a config written to a temp dir. The launcher execs node, so
 * `child.pid` is the agent's own.
 */
export async function spawnAgent(
  configYaml: (dir: string) => string,
  env: NodeJS.ProcessEnv = {},
  /** `dir` of an agent that stopped: this one starts on its data (a restart). */
  reuse?: { dir: string },
): Promise<AgentProcess> {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const dir = reuse?.dir ?? (await makeTempDir('agent'));
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, configYaml(dir));
  const child = spawn(LAUNCHER, ['run', '--config', configFile], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    dir,
    configFile,
    output: () => out,
    running: (timeoutMs = 20_000) =>
      waitUntil(() => out.includes('outpost running'), 'the agent to be running', timeoutMs),
    async stop(signal = 'SIGTERM') {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await exited;
      return { ...r, ms: Date.now() - t0 };
    },
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await removeTempDir(dir);
    },
  };
}

/**
 * An agent `node: { id: edge }` with its embedded broker on a free 127.0.0.1 port and its
 * data in its temp dir; `rest` is the YAML after those (hosts, sections). Resolves once it
 * is running; one that does not start is stopped and its dir removed.
 */
export async function spawnEdgeAgent(
  rest: (dir: string) => string,
): Promise<{ agent: AgentProcess; url: string }> {
  const port = await getFreePort();
  const agent = await spawnAgent(
    (dir) =>
      `node: { id: edge }\ndata_dir: ${dir}/data\nbroker: { listen: "127.0.0.1:${port}" }\n` +
      rest(dir),
  );
  try {
    await agent.running(60_000);
  } catch (err) {
    await agent.cleanup(); // the caller has no handle to stop it by
    throw err;
  }
  return { agent, url: `mqtt://127.0.0.1:${port}` };
}
