import { topicMatches } from '../core/topics.js';

/** One of a client's subscriptions as aedes keeps it (lib/handlers/subscribe.js). */
export interface GrantedSubscription {
  readonly qos: number;
}

/**
 * The QoS a retained message goes to a new subscriber at: the lower of its stored QoS and
 * the highest QoS granted to the client's filters that match its topic ([MQTT-3.3.5-1],
 * [MQTT-3.8.4-6]).
 *
 * Why here: aedes downgrades only by a subscription keyed by the message's own topic
 * (lib/client.js deliverQoS), so a retained QoS 1 message reached a `homeassistant/#`
 * subscriber that asked for QoS 0 at QoS 1. Home Assistant then acknowledged each of the
 * ~30,000 configs and states of a 5,000-container site, and the broker handled a PUBACK
 * and a session lookup per message: ~10 MiB more RSS at the peak of its read (issue 15).
 * Returns `stored` when no filter matches (aedes found the message for one of them).
 */
export function retainedQos(
  stored: number,
  topic: string,
  subscriptions: Readonly<Record<string, GrantedSubscription>>,
): number {
  let granted = -1;
  for (const filter in subscriptions) {
    const qos = subscriptions[filter]!.qos;
    if (qos > granted && topicMatches(filter, topic)) granted = qos;
    if (granted >= stored) return stored;
  }
  return granted < 0 ? stored : granted;
}
