import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import {
  createHostCollector,
  type ContainerCollectorOutput,
} from '../../../src/collectors/containers/index.js';
import type { RemoteContainerCollector } from '../../../src/collectors/containers/remote-collector.js';
import { parseConfig } from '../../../src/config/load.js';
import { Backoff } from '../../../src/core/backoff.js';
import { ManualClock, systemClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { ContainerTracker } from '../../../src/state/container-tracker.js';
import type { ContainerEvent } from '../../../src/state/events.js';
import { startDockerd, type ContainerEngine } from '../../helpers/container-engines.js';
import { startSshd, type SshdServer } from '../../helpers/sshd.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import { cannedHost, createFakeEngine, type FakeEngine } from './fake-engine.js';
import { CuttableProxy, EngineActions, hostIs, OutputRecorder } from './helpers.js';

const MIN = 60_000;

/**
 * The remote path against a real sshd on 127.0.0.1 logging in as `sshtest`: a real dockerd
 * reached with `docker -H unix://…` as the engine command, a FAKE engine CLI script
 * (fake-engine.ts) for output no real engine gives on demand, and a cuttable TCP proxy
 * for a connection dropped in the middle of a poll.
 */
describe('remote hosts over SSH', () => {
  let sshd: SshdServer;
  let dockerd: ContainerEngine;
  let dir: string;
  let fake: FakeEngine;
  let act: EngineActions;
  let rec: OutputRecorder;
  let tracker: ContainerTracker;
  let hysteresisClock: ManualClock;
  const events: ContainerEvent[] = [];
  const running: RemoteContainerCollector[] = [];

  /** A collector built by the same factory main.ts uses, from config as a user writes it. */
  const collector = (host: Record<string, unknown>, containers: Record<string, unknown> = {}) => {
    const { config } = parseConfig(JSON.stringify({ hosts: [host], containers }), { env: {} });
    const c = createHostCollector(config.hosts[0]!, config.containers, {
      clock: systemClock,
      log: silentLogger(),
      sink: (o: ContainerCollectorOutput) => {
        rec.sink(o);
        tracker.apply(o);
      },
      backoff: () => new Backoff({ initialMs: 100, maxMs: 400 }),
    }) as RemoteContainerCollector;
    running.push(c);
    return c;
  };

  const ssh = (extra: Record<string, unknown> = {}) => ({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    key_file: sshd.clientKeyPath,
    ...extra,
  });
  const pinned = () => ssh({ host_key: sshd.hostKeyFingerprint });
  const docker = () => ({ command: ['docker', '-H', `unix://${dockerd.socketPath}`] });
  /** PIDs of fake engines hanging in `inspect` (hang mode execs `sleep 20`). */
  const hangingEngines = () =>
    execFileSync('ps', ['-eo', 'pid=,args='])
      .toString()
      .split('\n')
      .filter((l) => /\bsleep 20$/.test(l.trim()))
      .map((l) => Number(l.trim().split(' ')[0]));
  /** Logins sshd has accepted so far (it logs each one). */
  const logins = async () =>
    ((await readFile(sshd.logFile, 'utf8')).match(/Accepted publickey for sshtest/g) ?? []).length;

  beforeAll(async () => {
    [sshd, dockerd] = await Promise.all([startSshd(), startDockerd()]);
    // The SSH user runs the docker CLI against this engine's socket.
    await chmod(dockerd.socketPath, 0o666);
    dir = await makeTempDir('remote-ssh');
    fake = await createFakeEngine(dir, cannedHost(5));
    act = new EngineActions(dockerd.socketPath, dockerd.imageRef);
    await act.run('app', { labels: { 'outpost.critical': 'true' } });
    await act.run('side');
    rec = new OutputRecorder();
    hysteresisClock = new ManualClock(Date.now());
    tracker = new ContainerTracker({
      clock: hysteresisClock,
      log: silentLogger(),
      downAfterMs: 5 * MIN,
      cooldownMs: 30 * MIN,
      onEvent: (e) => events.push(e),
    });
  }, 120_000);

  afterAll(async () => {
    await fake?.killHung();
    await Promise.all(running.map((c) => c.stop()));
    tracker?.stop();
    await Promise.all([sshd?.stop(), dockerd?.stop()]);
    if (dir) await removeTempDir(dir);
  });

  it('polls a real dockerd over SSH on one reused connection, key pinned by known_hosts', async () => {
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
    const before = await logins();
    const c = collector({ id: 'nas', ssh: ssh({ known_hosts: knownHosts }), engine: docker() });
    const first = rec.next((o) => o.kind === 'snapshot' && o.host === 'nas', 'nas snapshot');
    await c.start();
    const snap = await first;
    expect(
      snap.kind === 'snapshot' && snap.containers.map((o) => [o.key, o.state, o.critical]),
    ).toEqual(
      expect.arrayContaining([
        ['app', 'running', true],
        ['side', 'running', false],
      ]),
    );
    expect(tracker.hostView('nas')).toMatchObject({ status: 'ok', engine: 'docker' });

    const appId = (await import('../../helpers/unix-http.js')).unixHttpJson<{ Id: string }>(
      dockerd.socketPath,
      '/containers/app/json',
    );
    await act.post((await appId).Id, 'stop', '?t=1');
    await c.poll();
    await c.poll();
    const app = tracker.containerViews('nas').find((v) => v.observation.key === 'app')!;
    expect([app.observation.state, app.observation.exitCode]).toEqual(['exited', 137]);
    hysteresisClock.advance(5 * MIN);
    expect(events.filter((e) => e.subject === 'nas/app').map((e) => e.type)).toEqual([
      'container_down',
    ]);
    // three polls, one login
    expect((await logins()) - before).toBe(1);
  });

  it('pins a host key by its SHA256 fingerprint', async () => {
    const c = collector({ id: 'pinned', ssh: pinned(), engine: docker() });
    const ok = rec.next(hostIs('pinned', 'ok'), 'pinned ok');
    await c.start();
    await ok;
  });

  const refused = async (id: string, sshConfig: Record<string, unknown>, reason: RegExp) => {
    const before = await logins();
    const c = collector({ id, ssh: sshConfig, engine: docker() });
    const down = rec.next(hostIs(id, 'unreachable'), `${id} unreachable`);
    await c.start();
    const out = await down;
    expect(out.message).toMatch(reason);
    expect(out.message).toContain(`offered ssh-ed25519 ${sshd.hostKeyFingerprint}`);
    expect(events.filter((e) => e.subject === id).map((e) => e.type)).toEqual(['host_unreachable']);
    expect(rec.outputs.some((o) => o.kind === 'snapshot' && o.host === id)).toBe(false);
    expect(await logins()).toBe(before);
    await c.stop();
  };

  it('refuses a host key that is not the pinned fingerprint, before logging in', async () => {
    await refused(
      'wrongkey',
      ssh({ host_key: `SHA256:${'A'.repeat(43)}` }),
      /^wrongkey \(ssh 127\.0\.0\.1:\d+\): host key refused: it is not the pinned SHA256:A{43} \(ssh\.host_key\)/,
    );
  });

  it('refuses a changed host key (known_hosts holds another key for the host)', async () => {
    const other = join(dir, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const pub = (await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const knownHosts = join(dir, 'known_hosts_changed');
    await writeFile(knownHosts, `[127.0.0.1]:${sshd.port} ${pub}\n`);
    await refused(
      'changed',
      ssh({ known_hosts: knownHosts }),
      /matches no key for \[127\.0\.0\.1\]:\d+ in .*known_hosts_changed \(changed host key\?\)/,
    );
  });

  it('refuses an unknown host (no known_hosts entry for it)', async () => {
    const knownHosts = join(dir, 'known_hosts_other');
    await writeFile(knownHosts, sshd.knownHostsLine.replace(/\]:\d+/, ']:1') + '\n');
    await refused(
      'unknown',
      ssh({ known_hosts: knownHosts }),
      /has no key for \[127\.0\.0\.1\]:\d+ \(unknown host\)/,
    );
  });

  it('marks bad engine output degraded, keeps the connection and recovers', async () => {
    const c = collector(
      { id: 'odd', ssh: pinned(), engine: { command: fake.command } },
      { timeout: '1s' },
    );
    await c.start();
    expect(tracker.hostView('odd')!.status).toBe('ok');
    const before = await logins();
    const cases: [Parameters<FakeEngine['setMode']>[0], RegExp][] = [
      ['truncated', /^odd: .*fake-docker inspect: output is not valid JSON/],
      [
        'garbage',
        /^odd: .*fake-docker inspect: output is not valid JSON .*"Error response from daemon/,
      ],
      ['hang', /^odd \(ssh 127\.0\.0\.1:\d+\): no result within 1000 ms$/],
      ['psfail', /^odd: .*fake-docker: ps failed: Cannot connect to the Docker daemon/],
    ];
    for (const [mode, message] of cases) {
      await fake.setMode(mode);
      const bad = rec.next(hostIs('odd', 'degraded'), `odd degraded (${mode})`);
      await c.poll();
      expect((await bad).message).toMatch(message);
      expect(tracker.containerViews('odd')).toHaveLength(5); // last known state kept
      if (mode === 'hang') {
        // the KILL sent through SSH on the timeout reaches the hung engine process itself
        await eventually(async () => expect(await fake.hungAlive()).toEqual([]), {
          timeout: 10_000,
        });
      }
      await fake.setMode('normal');
      const good = rec.next(hostIs('odd', 'ok'), `odd ok after ${mode}`);
      await c.poll();
      await good;
    }
    expect(events.filter((e) => e.subject === 'odd').map((e) => e.type)).toEqual(
      cases.flatMap(() => ['host_unreachable', 'host_reachable']),
    );
    expect(await logins()).toBe(before);
  });

  it('survives a connection dropped mid-poll while another host keeps being watched', async () => {
    const proxy = await CuttableProxy.start({ host: sshd.host, port: sshd.port }, 0);
    try {
      const flaky = collector({
        id: 'flaky',
        ssh: ssh({ port: proxy.port, host_key: sshd.hostKeyFingerprint }),
        engine: { command: fake.command },
      });
      const steady = collector(
        { id: 'steady', ssh: pinned(), engine: docker() },
        { poll_every: '200ms' },
      );
      await Promise.all([flaky.start(), steady.start()]);
      expect(tracker.hostView('flaky')!.status).toBe('ok');

      await fake.setMode('hang');
      const earlier = hangingEngines();
      const inFlight = flaky.poll();
      // wait until this poll's command hangs on the host, then pull the cable
      while (!hangingEngines().some((pid) => !earlier.includes(pid))) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const lost = rec.next(hostIs('flaky', 'unreachable'), 'flaky unreachable');
      proxy.refuse(true);
      proxy.cut();
      await inFlight;
      expect((await lost).message).toMatch(
        /^flaky \(ssh 127\.0\.0\.1:\d+\): connection (lost|closed)/,
      );

      const steadyBefore = rec.outputs.filter(
        (o) => o.kind === 'snapshot' && o.host === 'steady',
      ).length;
      await rec.next((o) => o.kind === 'snapshot' && o.host === 'steady', 'steady still polled');
      await rec.next((o) => o.kind === 'snapshot' && o.host === 'steady', 'steady polled again');
      expect(
        rec.outputs.filter((o) => o.kind === 'snapshot' && o.host === 'steady').length,
      ).toBeGreaterThanOrEqual(steadyBefore + 2);
      expect(tracker.hostView('steady')!.status).toBe('ok');

      await fake.setMode('normal');
      const back = rec.next(hostIs('flaky', 'ok'), 'flaky back');
      proxy.refuse(false);
      await back;
      expect(events.filter((e) => e.subject === 'flaky').map((e) => e.type)).toEqual([
        'host_unreachable',
        'host_reachable',
      ]);
    } finally {
      await proxy.stop();
    }
  });
});
