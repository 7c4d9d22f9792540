import { nodeRoot, type TopicRoot } from '../../src/core/topics.js';

/** Where the watch publishes what it saw: retained JSON (`Z2mState`). */
export function z2mStateTopic(root: TopicRoot): string {
  return `${nodeRoot(root)}/zigbee2mqtt`;
}

/** Zigbee2MQTT's own topics under its base topic (zigbee2mqtt.io "MQTT topics and messages"). */
export const z2mTopics = {
  state: (base: string) => `${base}/bridge/state`,
  info: (base: string) => `${base}/bridge/info`,
  health: (base: string) => `${base}/bridge/health`,
  devices: (base: string) => `${base}/bridge/devices`,
  /** Every device's state message, `<base>/<friendly_name>` (names without a `/`). */
  deviceStates: (base: string) => `${base}/+`,
} as const;
