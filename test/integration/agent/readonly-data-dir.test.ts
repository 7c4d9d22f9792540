import { afterEach, describe, expect, it } from 'vitest';
import { spawnAgent, type AgentProcess } from '../../helpers/agent.js';
import { skipWithout } from '../../helpers/capability.js';
import { eventually } from '../../helpers/eventually.js';
import { cannotMount, makeTmpfsDir, remount } from '../../helpers/mounts.js';
import { getFreePort } from '../../helpers/ports.js';
import { removeTempDir } from '../../helpers/tmp.js';

/**
 * A data dir on a read-only file system at start-up (issue 13 point 7): the agent does not
 * start, and says why in one line naming the path. Needs root (a tmpfs remounted ro);
 * skipped, and says why, without, except in CI, where it fails instead.
 */

const noMount = skipWithout('a tmpfs mount (read-only data dir)', await cannotMount());

interface LogLine {
  level: number | string;
  msg: string;
  err?: string;
}

describe.skipIf(noMount)('the agent on a read-only data dir', () => {
  let agent: AgentProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await agent?.cleanup();
    if (dir) await removeTempDir(dir); // unmounts the tmpfs first
    agent = dir = undefined;
  });

  it('exits with one line naming the path and the reason', async () => {
    dir = await makeTmpfsDir('readonly-data', '1m');
    await remount(dir, 'ro');
    const port = await getFreePort();
    const dataDir = dir;
    agent = await spawnAgent(
      () => `node: { id: edge }\ndata_dir: ${dataDir}\nbroker: { listen: "127.0.0.1:${port}" }\n`,
    );
    await eventually(() => expect(agent!.child.exitCode).not.toBeNull());
    expect(agent.child.exitCode).toBe(1);
    const lines = agent
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);
    // pino levels: 50 error, 60 fatal (labels when the log is made readable).
    const bad = lines.filter((l) => ['error', 'fatal', 50, 60].includes(l.level));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ msg: 'outpost could not start' });
    expect(bad[0]!.err).toContain(`${dataDir} is on a read-only file system`);
  });
});
