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
import { launcherWords } from '../helpers/launcher.js';
import {
  loadNow,
  median,
  ratio,
  repeat,
  spread,
  summarize,
  type Benchmark,
  type Figure,
} from './framework.js';

/**
 * How long the agent sits idle before its RSS is read: an idle agent, not one just started.
 * V8's memory reducer collects the start-up garbage by itself about 8-10 s after the
 * allocation rate drops (no flag, no forced GC); before that RSS still holds it, which
 * the "3 s after online" figure shows.
 */
const IDLE_MS = 20_000;
const EARLY_MS = 3_000;
/** The memory budget for an idle agent with its embedded broker (issue 15, point 3). */
const RSS_TARGET_MIB = 70;
const MiB = 2 ** 20;

const ms = (v: number) => Math.round(v * 10) / 10;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
/** The median load average over the runs that made a figure. */
const medianLoad = (loads: readonly number[]) => median(loads);

/** Time from spawning the agent until its availability topic says `online`. */
export const agentStartup: Benchmark = {
  name: 'agent-startup',
  description:
    'Time from spawning `bin/outpost run` (the launcher, as it ships; embedded broker on a ' +
    'free 127.0.0.1 port, temp config and data dir) until a subscriber has `online` on the ' +
    'availability topic; 7 runs after 1 discarded warm-up, each stopped with SIGTERM and ' +
    'checked to exit 0 within 5 s. Baseline: a bare `node -e` that opens a TCP listener, ' +
    '7 runs. Medians, with min and max over the runs; load is the median 1-minute load ' +
    'average over the runs.',
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
      return { ...stopped, startupMs: agent.startupMs, retained, load: loadNow() };
    });
    const bare = await repeat(runs, async () => {
      const b = await startBareNode();
      await b.kill();
      return { readyMs: b.readyMs, load: loadNow() };
    });

    const start = summarize(samples.map((s) => s.startupMs));
    const stop = summarize(samples.map((s) => s.stopMs));
    const bareStart = summarize(bare.map((b) => b.readyMs));
    const load = medianLoad(samples.map((s) => s.load));
    const bareLoad = medianLoad(bare.map((b) => b.load));
    const retainedOk = samples.filter((s) => s.retained === 'online').length;
    const offlineOk = samples.filter((s) => s.sawOffline).length;
    return [
      {
        label: 'spawn → online (median)',
        value: ms(start.median),
        unit: 'ms',
        note: spread(start),
        load,
      },
      {
        label: 'retained `online` seen by a fresh client',
        value: `${retainedOk}/${runs}`,
        unit: 'runs',
        load,
      },
      {
        label: 'SIGTERM → exit 0 (median)',
        value: ms(stop.median),
        unit: 'ms',
        note: `${spread(stop)}; promise: < 5000 ms`,
        load,
      },
      { label: '`offline` seen before exit', value: `${offlineOk}/${runs}`, unit: 'runs', load },
      {
        label: 'bare node spawn → listening (median)',
        value: ms(bareStart.median),
        unit: 'ms',
        note: `${spread(bareStart)}; baseline`,
        load: bareLoad,
      },
      {
        label: 'agent / bare node startup (medians)',
        value: ratio(start.median, bareStart.median),
        unit: '×',
        load,
      },
    ] satisfies Figure[];
  },
};

interface IdleSample {
  early: number;
  rss: number;
  anon: number;
  hwm: number;
  load: number;
}

/** Memory of an idle agent: embedded broker, one subscriber connected. */
export const agentIdleRss: Benchmark = {
  name: 'agent-idle-rss',
  description:
    `VmRSS of the idle agent process (embedded broker, one connected MQTT client) read from ` +
    `/proc/<pid>/status after ${IDLE_MS / 1000} s idle (and ${EARLY_MS / 1000} s after ` +
    `online, before V8's memory reducer has collected the start-up garbage); 3 runs each, ` +
    `medians with min and max. Target ≤ ${RSS_TARGET_MIB} MiB idle. RssAnon leaves out the ` +
    'mapped node binary (file-backed, shared between node processes). The agent runs as it ' +
    'ships, `bin/outpost run` (the bundled agent; V8: a 1 MiB young generation, one worker ' +
    'thread, an old generation growing by 20 %, optimising compilers on, no forced GC; glibc ' +
    'malloc: 4 arenas, trim above 64 KiB); side by side in the same run: the agent under ' +
    'node defaults (`node dist/agent/main.js run`, no flags, no malloc environment), and a bare `node -e` ' +
    'with one TCP listener, idle as long.',
  async run(ctx) {
    const runs = 3;
    agentEntry(ctx.root);
    const measure = (launch: Launch, tag: string) =>
      repeat(runs, async (i): Promise<IdleSample> => {
        const agent = await startAgent(ctx.root, { launch });
        await sleep(EARLY_MS);
        const early = procStatusBytes(agent.pid, 'VmRSS');
        await sleep(IDLE_MS - EARLY_MS);
        const rss = procStatusBytes(agent.pid, 'VmRSS');
        const anon = procStatusBytes(agent.pid, 'RssAnon');
        // VmHWM: the high-water mark of the resident set since the process started.
        const hwm = procStatusBytes(agent.pid, 'VmHWM');
        const load = loadNow();
        await agent.stop();
        ctx.log(
          `agent-idle-rss${tag}: run ${i + 1}/${runs}: ${mib(rss)} MiB ` +
            `(${mib(early)} at ${EARLY_MS / 1000} s, anon ${mib(anon)}, peak ${mib(hwm)})`,
        );
        return { early, rss, anon, hwm, load };
      });
    const launch = shippedLaunch(ctx.root);
    const shipped = await measure(launch, '');
    const defaults = await measure(NODE_DEFAULTS, ' (node defaults)');
    const bare = await repeat(runs, async () => {
      const b = await startBareNode();
      await sleep(IDLE_MS);
      const rss = procStatusBytes(b.pid, 'VmRSS');
      const load = loadNow();
      await b.kill();
      return { rss, load };
    });

    const of = (xs: readonly IdleSample[], k: keyof IdleSample) =>
      summarize(xs.map((x) => x[k] / MiB));
    const rss = of(shipped, 'rss');
    const anon = of(shipped, 'anon');
    const load = medianLoad(shipped.map((s) => s.load));
    const defaultRss = of(defaults, 'rss');
    const defaultLoad = medianLoad(defaults.map((s) => s.load));
    const bareRss = summarize(bare.map((b) => b.rss / MiB));
    const verdict = (v: number) => (v <= RSS_TARGET_MIB ? 'pass' : 'FAIL');
    return [
      { label: 'idle RSS (median)', value: ms(rss.median), unit: 'MiB', note: spread(rss), load },
      {
        label: `target ≤ ${RSS_TARGET_MIB} MiB`,
        value: verdict(rss.median),
        unit: '',
        note:
          `median ${rss.median.toFixed(1)} MiB, max ${rss.max.toFixed(1)} MiB; of it ` +
          `${(rss.median - anon.median).toFixed(1)} MiB file-backed (the pages of the node ` +
          `binary and native addons the agent runs, shared with other node processes), ` +
          `${anon.median.toFixed(1)} MiB anonymous (V8 heap, malloc, stacks)`,
        load,
      },
      {
        label: `RSS ${EARLY_MS / 1000} s after online (median)`,
        value: ms(of(shipped, 'early').median),
        unit: 'MiB',
        note: `${spread(of(shipped, 'early'))}; start-up garbage not yet collected`,
        load,
      },
      {
        label: 'idle RssAnon (median)',
        value: ms(anon.median),
        unit: 'MiB',
        note: `${spread(anon)}; heap, stacks`,
        load,
      },
      {
        label: 'peak RSS, VmHWM (median)',
        value: ms(of(shipped, 'hwm').median),
        unit: 'MiB',
        note: spread(of(shipped, 'hwm')),
        load,
      },
      { label: 'launcher', value: launcherWords(launch), unit: '' },
      {
        label: 'idle RSS under node defaults (median)',
        value: ms(defaultRss.median),
        unit: 'MiB',
        note: `${spread(defaultRss)}; target: ${verdict(defaultRss.median)}`,
        load: defaultLoad,
      },
      {
        label: 'launcher / node defaults RSS (medians)',
        value: ratio(rss.median, defaultRss.median),
        unit: '×',
        load,
      },
      {
        label: 'bare node idle RSS (median)',
        value: ms(bareRss.median),
        unit: 'MiB',
        note: `${spread(bareRss)}; baseline`,
        load: medianLoad(bare.map((b) => b.load)),
      },
      {
        label: 'agent / bare node RSS (medians)',
        value: ratio(rss.median, bareRss.median),
        unit: '×',
        load,
      },
    ] satisfies Figure[];
  },
};
