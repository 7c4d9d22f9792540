import { existsSync, rmSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSPECT_FORMAT, listScript, RemoteEngine } from '../../../src/hosts/remote-engine.js';
import type { CommandRunner } from '../../../src/hosts/ssh-connection.js';
import { shellRunner } from '../../helpers/shell-runner.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import {
  cannedRecord,
  createFakeEngine,
  fakeId,
  type FakeEngine,
} from '../../integration/containers/fake-engine.js';
import { podmanCliRecord } from './fixtures.js';
import { failure } from '../../helpers/failure.js';

const localShell = shellRunner();
const streamingShell = shellRunner({ streaming: true });

describe('RemoteEngine (fake engine CLI, local shell)', () => {
  let dir: string;
  let fake: FakeEngine;
  let engine: RemoteEngine;

  beforeAll(async () => {
    // A directory with a space and a quote: the command path must survive quoting.
    const base = await makeTempDir('remote-engine');
    dir = join(base, "it's a dir");
    await mkdir(dir);
    fake = await createFakeEngine(dir, [cannedRecord('a'), cannedRecord('b', { state: 'exited' })]);
    engine = new RemoteEngine({
      runner: localShell,
      command: fake.command,
      timeoutMs: 2_000,
      source: 'nas',
    });
    return async () => removeTempDir(base);
  });
  afterAll(async () => {
    rmSync('/tmp/outpost-pwned', { force: true });
    await fake?.killHung();
  });

  it('builds one fixed script where the engine command is the only inserted text', () => {
    const a = listScript(['sudo', '/usr/local/bin/docker']);
    const b = listScript(['podman']);
    expect(a).toMatch(/^sh -c '/);
    expect(a).not.toContain('\n');
    expect(a.replace(`'\\''sudo'\\'' '\\''/usr/local/bin/docker'\\''`, 'X')).toBe(
      b.replace(`'\\''podman'\\''`, 'X'),
    );
  });

  it('hands the engine the inspect template as one word, unchanged by the shell', async () => {
    // An "engine" that answers ps with one id and prints the words inspect was given.
    const argsDir = await makeTempDir('remote-engine-args');
    try {
      const echo = join(argsDir, 'engine');
      await writeFile(
        echo,
        `#!/bin/sh\nif [ "$1" = ps ]; then echo ${fakeId('a')}; exit 0; fi\n` +
          `for w in "$@"; do printf '%s\\0' "$w"; done > "${argsDir}/args"\n`,
      );
      await chmod(echo, 0o755);
      const e = new RemoteEngine({
        runner: localShell,
        command: [echo],
        timeoutMs: 2_000,
        source: 'x',
      });
      await e.listAll();
      const words = (await readFile(join(argsDir, 'args'), 'utf8')).split('\0').slice(0, -1);
      expect(words).toEqual(['inspect', '--format', INSPECT_FORMAT, fakeId('a')]);
    } finally {
      await removeTempDir(argsDir);
    }
  });

  it('lists and inspects every container in one round trip', async () => {
    let calls = 0;
    const counting: CommandRunner = { exec: (c, o) => (calls++, localShell.exec(c, o)) };
    const e = new RemoteEngine({
      runner: counting,
      command: fake.command,
      timeoutMs: 2_000,
      source: 'nas',
    });
    const listing = await e.listAll();
    expect(calls).toBe(1);
    expect(listing.engine).toBe('docker');
    expect(listing.records.map((r) => [r.Id, r.State.Status])).toEqual([
      [fakeId('a'), 'running'],
      [fakeId('b'), 'exited'],
    ]);
  });

  it('answers an empty list without calling inspect', async () => {
    await fake.setContainers([]);
    await fake.setMode('hang'); // inspect would hang: it must not be called
    try {
      expect((await engine.listAll()).records).toEqual([]);
    } finally {
      await fake.setMode('normal');
      await fake.setContainers([cannedRecord('a'), cannedRecord('b', { state: 'exited' })]);
    }
  });

  it('recognises podman by what its CLI prints', async () => {
    await fake.setContainers([podmanCliRecord()]);
    try {
      expect((await engine.listAll()).engine).toBe('podman');
    } finally {
      await fake.setContainers([cannedRecord('a')]);
    }
  });

  it('refuses an id from ps that is not hex, before it reaches any command', async () => {
    await fake.setMode('badid');
    try {
      const err = await failure(engine.listAll());
      expect(err.code).toBe('ENGINE_COMMAND_FAILED');
      expect(err.message).toMatch(
        /unexpected ps output: outpost: the engine listed a malformed container id/,
      );
      expect(existsSync('/tmp/outpost-pwned')).toBe(false);
    } finally {
      await fake.setMode('normal');
    }
  });

  it('reports truncated and non-JSON output as bad output', async () => {
    for (const mode of ['truncated', 'garbage'] as const) {
      await fake.setMode(mode);
      const err = await failure(engine.listAll());
      expect([mode, err.code]).toEqual([mode, 'ENGINE_BAD_OUTPUT']);
      expect(err.message).toMatch(/^nas: .*fake-docker inspect: output is not valid JSON/);
    }
    await fake.setMode('normal');
  });

  it('reports a failing ps with the engine’s own words', async () => {
    await fake.setMode('psfail');
    const err = await failure(engine.listAll());
    await fake.setMode('normal');
    expect(err.code).toBe('ENGINE_COMMAND_FAILED');
    expect(err.message).toMatch(/: ps failed: Cannot connect to the Docker daemon/);
  });

  it('reports a missing engine command as not found', async () => {
    const e = new RemoteEngine({
      runner: localShell,
      command: ['/nonexistent/docker'],
      timeoutMs: 2_000,
      source: 'nas',
    });
    const err = await failure(e.listAll());
    expect(err.message).toMatch(/^nas: \/nonexistent\/docker: ps failed: .*not found/);
  });

  it('passes a timeout on when the engine hangs', async () => {
    await fake.setMode('hang');
    const e = new RemoteEngine({
      runner: localShell,
      command: fake.command,
      timeoutMs: 300,
      source: 'nas',
    });
    const err = await failure(e.listAll());
    await fake.setMode('normal');
    expect(err.code).toBe('TIMEOUT');
  });
});

describe('RemoteEngine.listEach (records handed over while the output arrives)', () => {
  let base: string;
  let fake: FakeEngine;
  const records = [cannedRecord('a'), cannedRecord('b', { state: 'exited' }), cannedRecord('c')];
  const engineOn = (runner: CommandRunner, timeoutMs = 2_000) =>
    new RemoteEngine({ runner, command: fake.command, timeoutMs, source: 'nas' });

  beforeAll(async () => {
    base = await makeTempDir('remote-engine-each');
    fake = await createFakeEngine(base, records);
    return async () => removeTempDir(base);
  });
  afterAll(async () => fake?.killHung());

  it('hands over the records listAll returns, in order, from a streaming runner or not', async () => {
    const all = await engineOn(localShell).listAll();
    for (const runner of [streamingShell, localShell]) {
      const seen: unknown[] = [];
      const summary = await engineOn(runner).listEach((r) => seen.push(r));
      expect(summary).toEqual({ count: 3, engine: 'docker' });
      expect(seen).toEqual(all.records);
    }
  });

  it('recognises podman and answers an empty list', async () => {
    await fake.setContainers([podmanCliRecord()]);
    expect(await engineOn(streamingShell).listEach(() => undefined)).toMatchObject({
      engine: 'podman',
    });
    await fake.setContainers([]);
    expect(await engineOn(streamingShell).listEach(() => undefined)).toEqual({
      count: 0,
      engine: 'docker',
    });
    await fake.setContainers(records);
  });

  it('fails as listAll does on bad output, a failing ps and a hang', async () => {
    const cases = [
      ['truncated', 'ENGINE_BAD_OUTPUT', /^nas: .*fake-docker inspect: output is not valid JSON/],
      [
        'garbage',
        'ENGINE_BAD_OUTPUT',
        /^nas: .*fake-docker inspect: output is not valid JSON .*"Error response from daemon/,
      ],
      ['psfail', 'ENGINE_COMMAND_FAILED', /: ps failed: Cannot connect to the Docker daemon/],
      ['badid', 'ENGINE_COMMAND_FAILED', /unexpected ps output: .*malformed container id/],
      ['hang', 'TIMEOUT', /./],
    ] as const;
    try {
      for (const [mode, code, message] of cases) {
        await fake.setMode(mode);
        // Only the hang waits for the timeout; on a busy machine the other modes' fake CLI
        // may take longer than 500 ms to answer, which must not read as a hang.
        const timeoutMs = mode === 'hang' ? 500 : 30_000;
        const err = await failure(engineOn(streamingShell, timeoutMs).listEach(() => undefined));
        expect([mode, err.code]).toEqual([mode, code]);
        expect(err.message).toMatch(message);
      }
    } finally {
      await fake.setMode('normal');
      await fake.killHung();
    }
  });

  it('names the field of a record that does not validate, as listAll does', async () => {
    const bad = { ...cannedRecord('b'), State: { Running: true, ExitCode: 0 } };
    await fake.setContainers([cannedRecord('a'), bad, cannedRecord('c')]);
    try {
      const whole = await failure(engineOn(localShell).listAll());
      const seen: string[] = [];
      const each = await failure(engineOn(streamingShell).listEach((r) => seen.push(r.Id)));
      expect(each.code).toBe('ENGINE_BAD_OUTPUT');
      expect(each.message).toMatch(/containers\[1\]\.State\.Status: expected a string/);
      expect(each.message).toBe(whole.message);
      // What came before the bad record was handed over; the caller discards it.
      expect(seen).toEqual([fakeId('a')]);
    } finally {
      await fake.setContainers(records);
    }
  });
});
