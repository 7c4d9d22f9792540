import { agentIdleRss, agentStartup } from './agent-startup.js';
import { agentScale20000, containerAgentSsh } from './agent-scale.js';
import { brokerRetainedRead } from './broker-retained.js';
import {
  containerEventLatency,
  containerSshPollCost,
  containerStateLatency,
} from './containers.js';
import { discoveryBench } from './discovery.js';
import { diskSshPollCost } from './disks.js';
import { eventStoreAppend } from './event-store.js';
import type { Benchmark } from './framework.js';
import { influxdbWrite } from './influxdb.js';
import { uplinkReplay } from './uplink.js';

/** Every benchmark `npm run bench` knows, in the order BENCHMARKS.md lists them. */
export const benchmarks: readonly Benchmark[] = [
  agentStartup,
  agentIdleRss,
  discoveryBench,
  eventStoreAppend,
  containerEventLatency,
  containerStateLatency,
  containerSshPollCost,
  containerAgentSsh,
  diskSshPollCost,
  brokerRetainedRead,
  agentScale20000,
  uplinkReplay,
  influxdbWrite,
];
