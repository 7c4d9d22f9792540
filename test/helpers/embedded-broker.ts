import { parseConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/core/logger.js';
import { aclRules } from '../../src/mqtt/acl.js';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from '../../src/mqtt/embedded-broker.js';
import { memoryLogger, type LogLine } from './memory-logger.js';

export interface TestBrokerOptions {
  /** The broker's data dir (sessions, retained messages); the caller removes it. */
  dataDir: string;
  /** The config after `node` and `data_dir`, e.g. `broker: { listen: "127.0.0.1:0" }`. */
  yaml: string;
  /** Where the broker logs; by default into `lines`, to assert what it said. */
  log?: Logger;
  dropped?: EmbeddedBrokerOptions['dropped'];
}

export interface TestBroker {
  broker: EmbeddedBroker;
  url: string;
  /** What the broker logged (empty when `log` was given). */
  lines: LogLine[];
}

/**
 * Starts the embedded broker of node `edge` under base `outpost`, built from the config as
 * the agent builds it (same ACL, availability topic and client id). The caller stops it.
 */
export async function startEmbeddedBroker(opts: TestBrokerOptions): Promise<TestBroker> {
  const { config } = parseConfig(`node: { id: edge }\ndata_dir: ${opts.dataDir}\n${opts.yaml}`, {
    env: {},
  });
  const memory = memoryLogger();
  const broker = new EmbeddedBroker({
    config: config.broker,
    dataDir: config.data_dir,
    acl: aclRules('outpost', 'edge', 'homeassistant'),
    availabilityTopic: 'outpost/edge/availability',
    agentClientId: 'outpost-edge',
    dropped: opts.dropped,
    log: opts.log ?? memory.log,
  });
  await broker.start();
  return { broker, url: `mqtt://127.0.0.1:${broker.port}`, lines: opts.log ? [] : memory.lines };
}
