import { setTimeout as sleep } from 'node:timers/promises';
import {
  agentEntry,
  retainedAvailability,
  procStatusBytes,
  startAgent,
  startBareNode,
  shippedLaunch,
  NODE_DEFAULTS,
  type Launch,
} from './agent-process.js';
import { ratio, repeat, summarize, type Benchmark, type Figure } from './framework.js';

/** How long the agent sits idle before its RSS is read. */
const IDLE_MS = 3_000;
/** The memory budget for an idle agent with its embedded broker (issue: ≤ 80 MiB). */
const RSS_TARGET_MIB = 80;
const MiB = 2 ** 20;

const ms = (v: number) => Math.round(v * 10) / 10;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

/** Time from spawning the agent until its availability topic says `online`. */
export const agentStartup: Benchmark = {
  name: 'agent-startup',
  description:
    'Time from spawning `bin/outpost run` (embedded broker on a free 127.0.0.1 ' +
    'port, temp config and data dir) until a subscriber has `online` on the availability ' +
    'topic; 7 runs after 1 discarded warm-up, each stopped with SIGTERM and checked to exit 0 ' +
    'within 5 s. Baseline: a bare `node -e` that opens a TCP listener.',
  async run(ctx) {
    const runs = 7;
    agentEntry(ctx.root);
    ctx.log('agent-startup: warm-up');
    await (await startAgent(ctx.root)).stop();

    const samples = await repeat(runs, async (i) => {
      const agent = await startAgent(ctx.root);
      const retained = await retainedAvailability(agent.port);
      const stopped = await agent.stop();
      ctx.log(
        `agent-startup: run ${i + 1}/${runs}: ${ms(agent.startupMs)} ms to online, ` +
          `${ms(stopped.stopMs)} ms to exit`,
      );
      return { ...stopped, startupMs: agent.startupMs, retained };
    });
    const bare = await repeat(runs, async () => {
      const b = await startBareNode();
      await b.kill();
      return b.readyMs;
    });

    const start = summarize(samples.map((s) => s.startupMs));
    const stop = summarize(samples.map((s) => s.stopMs));
    const bareStart = summarize(bare);
    const retainedOk = samples.filter((s) => s.retained === 'online').length;
    const offlineOk = samples.filter((s) => s.sawOffline).length;
    return [
      {
        label: 'spawn → online (median)',
        value: ms(start.median),
        unit: 'ms',
        note: `${runs} runs`,
      },
      { label: 'spawn → online (min)', value: ms(start.min), unit: 'ms' },
      { label: 'spawn → online (max)', value: ms(start.max), unit: 'ms' },
      {
        label: 'retained `online` seen by a fresh client',
        value: `${retainedOk}/${runs}`,
        unit: 'runs',
      },
      {
        label: 'SIGTERM → exit 0 (median)',
        value: ms(stop.median),
        unit: 'ms',
        note: 'promise: < 5000 ms',
      },
      { label: 'SIGTERM → exit 0 (max)', value: ms(stop.max), unit: 'ms' },
      { label: '`offline` seen before exit', value: `${offlineOk}/${runs}`, unit: 'runs' },
      {
        label: 'bare node spawn → listening (median)',
        value: ms(bareStart.median),
        unit: 'ms',
        note: 'baseline',
      },
      {
        label: 'agent / bare node startup',
        value: ratio(start.median, bareStart.median),
        unit: '×',
      },
    ] satisfies Figure[];
  },
};

/** Memory of an idle agent: embedded broker, one subscriber connected. */
export const agentIdleRss: Benchmark = {
  name: 'agent-idle-rss',
  description:
    `VmRSS of the idle agent process (embedded broker, one connected MQTT client) read from ` +
    `/proc/<pid>/status after ${IDLE_MS / 1000} s idle; 3 runs each. Target ≤ ${RSS_TARGET_MIB} MiB. ` +
    'RssAnon leaves out the mapped node binary (file-backed, shared between node processes). ' +
    'The agent runs as its `outpost` launcher starts it (V8: a small young generation, one ' +
    'worker thread, optimize for size, baseline compiler only, `gc` exposed for its heap ' +
    'trim; glibc malloc: 4 arenas, trim above 64 KiB); ' +
    'side by side: the agent under node defaults, and a bare `node -e` ' +
    'with one TCP listener, idle as long.',
  async run(ctx) {
    const runs = 3;
    agentEntry(ctx.root);
    const measure = (launch: Launch, tag: string) =>
      repeat(runs, async (i) => {
        const agent = await startAgent(ctx.root, { launch });
        await sleep(IDLE_MS);
        const rss = procStatusBytes(agent.pid, 'VmRSS');
        const anon = procStatusBytes(agent.pid, 'RssAnon');
        // VmHWM: the high-water mark of the resident set since the process started.
        const hwm = procStatusBytes(agent.pid, 'VmHWM');
        await agent.stop();
        ctx.log(
          `agent-idle-rss${tag}: run ${i + 1}/${runs}: ${mib(rss)} MiB ` +
            `(anon ${mib(anon)}, peak ${mib(hwm)})`,
        );
        return { rss, anon, hwm };
      });
    const launch = shippedLaunch(ctx.root);
    const flags = launch.flags;
    const plain = await measure(launch, '');
    const defaults = await measure(NODE_DEFAULTS, ' (node defaults)');
    const bare = await repeat(runs, async () => {
      const b = await startBareNode();
      await sleep(IDLE_MS);
      const rss = procStatusBytes(b.pid, 'VmRSS');
      await b.kill();
      return rss;
    });

    const rss = summarize(plain.map((s) => s.rss));
    const anon = summarize(plain.map((s) => s.anon));
    const hwm = summarize(plain.map((s) => s.hwm));
    const defaultRss = summarize(defaults.map((s) => s.rss));
    const bareRss = summarize(bare);
    const verdict = (bytes: number) => (bytes / MiB <= RSS_TARGET_MIB ? 'pass' : 'FAIL');
    return [
      { label: 'idle RSS (median)', value: mib(rss.median), unit: 'MiB', note: `${runs} runs` },
      { label: 'idle RSS (min)', value: mib(rss.min), unit: 'MiB' },
      { label: 'idle RSS (max)', value: mib(rss.max), unit: 'MiB' },
      {
        label: `target ≤ ${RSS_TARGET_MIB} MiB`,
        value: verdict(rss.median),
        unit: '',
        note: `median ${mib(rss.median)} MiB`,
      },
      {
        label: 'idle RssAnon (median)',
        value: mib(anon.median),
        unit: 'MiB',
        note: 'heap, stacks',
      },
      { label: 'peak RSS, VmHWM (median)', value: mib(hwm.median), unit: 'MiB' },
      { label: 'launcher flags', value: flags.join(' '), unit: '' },
      {
        label: 'launcher environment',
        value: Object.entries(launch.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        unit: '',
      },
      {
        label: 'idle RSS under node defaults (median)',
        value: mib(defaultRss.median),
        unit: 'MiB',
        note: `target: ${verdict(defaultRss.median)}`,
      },
      {
        label: 'launcher flags / node defaults RSS',
        value: ratio(rss.median, defaultRss.median),
        unit: '×',
      },
      {
        label: 'bare node idle RSS (median)',
        value: mib(bareRss.median),
        unit: 'MiB',
        note: 'baseline',
      },
      { label: 'agent / bare node RSS', value: ratio(rss.median, bareRss.median), unit: '×' },
    ] satisfies Figure[];
  },
};
