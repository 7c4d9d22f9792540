import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { procStatusBytes, startBareNode } from './agent-process.js';
import type { AgentProc } from './containers.js';
import type { Figure } from './framework.js';
import { analyseHeapSnapshot, type Component } from './heap-components.js';
import { PROBE_DIR_ENV, type ProbeUsage } from './memory-probe.js';

/**
 * Memory by component for one settled agent (issue 15 point 2): the mapped node binary and
 * native addons (/proc/<pid>/smaps), the agent's own process.memoryUsage() (through the
 * memory probe), and its V8 heap split by component from a heap snapshot. The snapshot
 * run is a measurement run only: writing a snapshot stalls the agent and costs memory.
 */

/** Leaves first: each component keeps only what no earlier one retained. */
const COMPONENTS: readonly Component[] = [
  { label: 'MQTT sessions (aedes clients)', classes: ['Client'], withProperty: 'broker' },
  { label: 'broker retained store', classes: ['RetainedStore', 'RetainedOverlay'] },
  { label: 'container tracker', classes: ['ContainerTracker', 'ContainerIncidents'] },
  {
    label: 'discovery (registry, planner, publisher)',
    classes: ['FileDiscoveryRegistry', 'MemoryDiscoveryRegistry', 'DiscoveryPublisher'],
  },
  {
    label: 'ssh2 connections and collectors',
    classes: ['SshConnection', 'RemoteEngine', 'RemoteContainerCollector'],
  },
  {
    label: 'event store and SQLite handles',
    classes: ['SqliteEventStore', 'ReopeningEventStore', 'GroupCommit', 'Database'],
  },
  { label: 'state publisher', classes: ['StatePublisher'] },
  {
    label: 'broker core (aedes, queues, persistence)',
    classes: ['EmbeddedBroker', 'Aedes', 'ClientQueues', 'PersistenceGuard'],
  },
];

const MiB = 2 ** 20;

/** The env that loads the probe into the agent, writing into `dir`. */
export function probeEnv(root: string, dir: string): Record<string, string> {
  const probe = join(root, '.bench-build', 'test', 'bench', 'memory-probe.js');
  return { NODE_OPTIONS: `--import=${pathToFileURL(probe).href}`, [PROBE_DIR_ENV]: dir };
}

/** Rss of the mappings of `pid`, by what backs them: the node binary, addons, anonymous. */
function smapsRss(pid: number): { nodeBinary: number; addons: number; otherFiles: number } {
  const exe = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? 'node';
  const out = { nodeBinary: 0, addons: 0, otherFiles: 0 };
  let path = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      path = head[1] ?? '';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss || !path.startsWith('/')) continue;
    const bytes = Number(rss[1]) * 1024;
    if (path.endsWith('/node') || path === exe) out.nodeBinary += bytes;
    else if (path.endsWith('.node')) out.addons += bytes;
    else out.otherFiles += bytes;
  }
  return out;
}

async function bareNodeRss(): Promise<number> {
  const bare = await startBareNode();
  try {
    await sleep(3_000);
    return procStatusBytes(bare.pid, 'VmRSS');
  } finally {
    await bare.kill();
  }
}

/** Signals the probe in `agent`, waits for its files and turns them into figures. */
export async function memoryBreakdown(
  agent: AgentProc,
  dir: string,
  log: (m: string) => void,
): Promise<Figure[]> {
  const rss = procStatusBytes(agent.pid, 'VmRSS');
  const anon = procStatusBytes(agent.pid, 'RssAnon');
  const maps = smapsRss(agent.pid);
  process.kill(agent.pid, 'SIGUSR2');
  for (let i = 0; !existsSync(join(dir, 'done')); i++) {
    if (i > 600) throw new Error('the memory probe wrote no heap snapshot within 120 s');
    await sleep(200);
  }
  const usage = JSON.parse(readFileSync(join(dir, 'usage.json'), 'utf8')) as ProbeUsage;
  log('  heap snapshot written; analysing');
  const heap = analyseHeapSnapshot(join(dir, 'agent.heapsnapshot'), COMPONENTS);
  const bare = await bareNodeRss();
  const u = usage.atSignal;
  const note = 'measurement run (probe loaded), not a judged run';
  const f = (label: string, bytes: number, n = ''): Figure => ({
    label: `memory: ${label}`,
    value: bytes / MiB,
    unit: 'MiB',
    ...(n ? { note: n } : {}),
  });
  const figures: Figure[] = [
    f('agent RSS when probed', rss, note),
    f('bare node RSS (a `node -e` TCP listener)', bare, 'baseline, measured beside'),
    f('RSS at preload, before the agent’s modules', usage.atPreload.rss, 'node + the probe'),
    f('mapped node binary (file-backed Rss)', maps.nodeBinary, 'shared with every node'),
    f('mapped native addons (.node)', maps.addons, 'better-sqlite3, ssh2, cpu-features'),
    f('other mapped files', maps.otherFiles, 'libc, ICU data, locale'),
    f('RssAnon (heap, malloc, stacks)', anon),
    f('V8 heap committed (heapTotal)', u.heapTotal),
    f('V8 heap used (heapUsed)', u.heapUsed),
    f('external (C++ objects V8 tracks)', u.external, 'includes arrayBuffers'),
    f('of which arrayBuffers', u.arrayBuffers, 'socket and SQLite buffers'),
    f(
      'anonymous outside the V8 heap (RssAnon − heapTotal)',
      anon - u.heapTotal,
      'malloc: SQLite page caches, ssh2/OpenSSL state, ArrayBuffers, thread stacks',
    ),
  ];
  // Committed beyond used in old space is the collector's headroom, not data held.
  for (const sp of usage.spaces.filter((x) => x.size >= 0.1 * MiB)) {
    figures.push(f(`V8 ${sp.name}: committed`, sp.size, `used ${(sp.used / MiB).toFixed(1)} MiB`));
  }
  for (const c of heap.components) {
    figures.push(f(`heap retained by ${c.label}`, c.bytes, `${c.objects} root objects`));
  }
  figures.push(
    f('heap of no component: code, shapes, modules', heap.restBytes),
    f('snapshot total self size', heap.totalBytes, 'includes off-heap native nodes'),
    f('of which native nodes (ArrayBuffer/WASM data)', heap.offHeapBytes, 'mostly not resident'),
  );
  for (const t of heap.byType.slice(0, 6)) {
    figures.push(f(`self size, type ${t.type}`, t.bytes));
  }
  for (const c of heap.byConstructor.slice(0, 8)) {
    figures.push(f(`self size, constructor ${c.name}`, c.bytes, `${c.count} objects`));
  }
  return figures;
}
