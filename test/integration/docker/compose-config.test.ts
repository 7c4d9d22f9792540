import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findBinary } from '../../helpers/apt.js';
import { skipWithout } from '../../helpers/capability.js';

/**
 * The compose files as docker-compose 1.29 itself reads them (`config` validates against its
 * schema and interpolates; no engine needed), with no .env and an empty environment.
 */

const execFileAsync = promisify(execFile);
const DOCKER = resolve(import.meta.dirname, '../../../docker');
const v1 = await findBinary('docker-compose');

describe.skipIf(
  skipWithout(
    'docker-compose config',
    v1 ? undefined : 'no docker-compose (Debian package docker-compose)',
  ),
)('docker-compose 1.29', () => {
  it.each(['compose.yaml', 'compose.embedded.yaml'])(
    'accepts docker/%s without a .env and without a warning',
    async (file) => {
      const { stdout, stderr } = await execFileAsync(
        v1!,
        ['--project-directory', DOCKER, '-p', 'outpost', '-f', join(DOCKER, file), 'config'],
        // No MQTT_PASSWORD, no OUTPOST_*: what a fresh checkout has.
        { env: { PATH: process.env.PATH }, cwd: DOCKER },
      );
      // "The X variable is not set. Defaulting to a blank string." is a warning on stderr.
      expect(stderr).toBe('');
      const resolved = parse(stdout) as {
        services: Record<string, { environment?: Record<string, string> }>;
      };
      expect(resolved.services.outpost?.environment?.OUTPOST_NODE_ID).toBe('edge-01');
    },
  );
});
