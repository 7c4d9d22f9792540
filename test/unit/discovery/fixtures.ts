import type { AgentInfo } from '../../../discovery/device.js';
import type { DiscoveryContext } from '../../../discovery/entity.js';
import type { DiscoveryModel } from '../../../discovery/model.js';
import { modelOf, type SiteSpec } from '../../helpers/discovery-site.js';
import type {
  IncomingMessage,
  MessageHandler,
  MqttPublisher,
  PublishOptions,
} from '../../../src/mqtt/types.js';

export { modelOf, type SiteSpec };

export const ctx: DiscoveryContext = {
  prefix: 'homeassistant',
  root: { base: 'outpost', node: 'chelsty-infra' },
  origin: { name: 'outpost', sw_version: '0.1.0', support_url: 'https://example.com/outpost' },
};

export const agent: AgentInfo = {
  node: 'chelsty-infra',
  name: 'CHELSTY infra',
  swVersion: '0.1.0',
  configurationUrl: 'http://192.0.2.10:8080',
};

/** A site that exercises every family. */
export const fullSite: SiteSpec = {
  agent,
  hosts: [
    {
      id: 'local',
      name: 'Infra box',
      remote: false,
      watchesContainers: true,
      containers: [
        {
          name: '/zigbee2mqtt',
          labels: { 'com.docker.compose.project': 'home', 'com.docker.compose.service': 'z2m' },
        },
        { name: 'mosquitto' },
      ],
      disks: [{ mount: '/' }, { mount: '/srv/data' }],
    },
    {
      id: 'nas',
      name: 'NAS',
      remote: true,
      watchesContainers: true,
      containers: [{ name: 'radarr' }],
      disks: [{ mount: '/volume1' }],
      maintenanceStateTopic: 'outpost/chelsty-infra/hosts/nas/maintenance',
      silenceStateTopic: 'outpost/chelsty-infra/hosts/nas/silence',
    },
  ],
  watchdog: true,
  backups: [{ job: 'ha-config', host: 'local' }, { job: 'photos' }],
  remediation: {
    pendingTopic: 'outpost/chelsty-infra/actions/pending',
    pending: [{ id: 'a1b2', action: 'restart_container', target: 'nas/radarr' }],
  },
};

export const fullModel: DiscoveryModel = modelOf(fullSite);

export interface Sent {
  topic: string;
  payload: string;
  opts: PublishOptions | undefined;
}

/** An in-memory MqttPublisher that records what is published. */
export class RecordingMqtt implements MqttPublisher {
  readonly sent: Sent[] = [];
  readonly handlers = new Map<string, MessageHandler[]>();
  connected = true;
  failTopics = new Set<string>();

  publish(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<void> {
    if (this.failTopics.has(topic)) return Promise.reject(new Error(`refused ${topic}`));
    this.sent.push({ topic, payload: payload.toString(), opts });
    return Promise.resolve();
  }

  subscribe(filter: string, handler: MessageHandler): () => void {
    const list = this.handlers.get(filter) ?? [];
    list.push(handler);
    this.handlers.set(filter, list);
    return () =>
      this.handlers.set(
        filter,
        (this.handlers.get(filter) ?? []).filter((h) => h !== handler),
      );
  }

  onConnect(): () => void {
    return () => undefined;
  }

  deliver(topic: string, payload: string, retain = false): void {
    const msg: IncomingMessage = { topic, payload: Buffer.from(payload), retain };
    for (const h of this.handlers.get(topic) ?? []) h(msg);
  }
}

/** Lets promise chains (and setImmediate callbacks) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
