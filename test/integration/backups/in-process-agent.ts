import { SshPool } from '../../../src/hosts/ssh-pool.js';
import { join } from 'node:path';
import { backupsModule } from '../../../src/capabilities/backups/module.js';
import type { Capability } from '../../../src/capabilities/capability.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Clock } from '../../../src/core/clock.js';
import { EventBus } from '../../../src/core/event-bus.js';
import type { NewEvent } from '../../../src/core/events.js';
import { Lifecycle } from '../../../src/core/lifecycle.js';
import { silentLogger } from '../../../src/core/logger.js';
import { StateFile } from '../../../src/core/state-file.js';
import { topics } from '../../../src/core/topics.js';
import { aclRules } from '../../../src/mqtt/acl.js';
import { MqttLink } from '../../../src/mqtt/client.js';
import { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { agentClientId, linkOptions, topicRoot } from '../../../src/mqtt/link-options.js';
import { StatePublisher } from '../../../src/mqtt/state-publisher.js';
import type { AgentEvents } from '../../../src/state/bus-events.js';
import { INCIDENTS_FILE, Incidents, incidentsFileSchema } from '../../../src/state/incidents.js';

export interface InProcessAgent {
  readonly url: string;
  /** Every event the capability raised, in order. */
  readonly events: NewEvent[];
  readonly capability: Capability;
  stop(): Promise<void>;
}

/**
 * The backups capability composed as src/main.ts composes it — its embedded broker, MQTT
 * link, state publisher, bus and incident book on `dataDir` — but on a clock the test
 * holds, so a restart can come "30 hours later" without waiting for them. Each call is
 * one start of the agent on the same data.
 */
export async function startInProcess(
  dataDir: string,
  backupsYaml: string,
  clock: Clock,
): Promise<InProcessAgent> {
  const log = silentLogger();
  const yaml = `node: { id: edge }\ndata_dir: ${dataDir}\nbroker: { listen: "127.0.0.1:0" }\n${backupsYaml}`;
  const { config } = parseConfig(yaml, { env: {} });
  const root = topicRoot(config);
  const lifecycle = new Lifecycle(log);
  const broker = new EmbeddedBroker({
    config: config.broker,
    dataDir: config.data_dir,
    acl: aclRules('outpost', 'edge', 'homeassistant'),
    availabilityTopic: topics.availability(root),
    agentClientId: agentClientId(config),
    log,
  });
  await lifecycle.start(broker);
  const link = new MqttLink(linkOptions(config, log, broker.localEndpoint()));
  const states = new StatePublisher({ mqtt: link, log, clock });
  const bus = new EventBus<AgentEvents>(log);
  const events: NewEvent[] = [];
  bus.on('test', 'event', (e) => events.push(e));
  const incidents = new Incidents({
    file: new StateFile(join(dataDir, INCIDENTS_FILE), incidentsFileSchema, log),
  });
  const ctx = {
    config,
    root,
    bus,
    states,
    clock,
    log,
    incidents,
    messages: broker.messages(),
    mqtt: link,
    ssh: new SshPool(config.hosts, { clock, log }),
  };
  const capability = (await backupsModule.create(ctx))!;
  await lifecycle.start(states);
  await lifecycle.start({ name: 'mqtt', start: () => link.start(), stop: () => link.stop() });
  for (const c of capability.components) await lifecycle.start(c);
  return {
    url: `mqtt://127.0.0.1:${broker.port}`,
    events,
    capability,
    stop: () => lifecycle.stopAll(),
  };
}
