import type { AlertText } from '../../src/core/events.js';
import { spokenDuration } from '../../src/core/spoken-duration.js';

export function offlineText(base: string, sinceMs: number, at: number): AlertText {
  return {
    title: 'Zigbee2MQTT offline',
    message: `Zigbee2MQTT (${base}) has been offline for ${spokenDuration(at - sinceMs)}: Zigbee devices do not answer`,
  };
}

export function onlineText(base: string, sinceMs: number, at: number): AlertText {
  return {
    title: 'Zigbee2MQTT back online',
    message: `Zigbee2MQTT (${base}) is back online after ${spokenDuration(at - sinceMs)} offline`,
  };
}
