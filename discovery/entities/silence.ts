import { topics } from '../../src/core/topics.js';
import { buildEntity } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext } from '../entity.js';
import type { EntityFamily } from '../family.js';

/**
 * A host's silence in Home Assistant (issue #14): until now a silence was set over MQTT and
 * nothing showed it, so alerts that did not come looked like a quiet site. The switch
 * mirrors the maintenance one: on silences the host for `forMs`, off ends it at once, and
 * its state is the agent's retained view of the host's silences.
 */
export interface SilenceDescription {
  readonly host: string;
  /** Retained JSON `{ silenced, until, by, containers }` (topics.hostSilence). */
  readonly stateTopic: string;
  /** How long the switch silences the host (`remediation.silence_for`), in ms. */
  readonly forMs: number;
}

/**
 * "Alerts silenced": on while the host itself is silenced. Its attributes carry until when,
 * who asked, and the silences of single containers on the host, which the switch leaves be.
 */
export function silenceEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  s: SilenceDescription,
): DiscoveryConfig[] {
  const on = { target: s.host, enabled: true, args: { for: s.forMs / 1000 } };
  return [
    buildEntity(ctx, hostDevice, {
      kind: 'silence_switch',
      domain: 'host',
      key: 'silence',
      name: 'Alerts silenced',
      commandTopic: topics.command(ctx.root, 'silence'),
      stateTopic: s.stateTopic,
      valueTemplate: `{{ 'ON' if value_json.get('silenced') else 'OFF' }}`,
      jsonAttributesTopic: s.stateTopic,
      ownedStateTopics: [s.stateTopic],
      // payload_on/off are what HA sends; state_on/off are what the template yields.
      options: {
        payload_on: JSON.stringify(on),
        payload_off: JSON.stringify({ target: s.host, enabled: false }),
        state_on: 'ON',
        state_off: 'OFF',
      },
    }),
  ];
}

/** The silence switch on each host in `silences` (where the policy would act on one). */
export function silenceFamily(silences: readonly SilenceDescription[]): EntityFamily {
  const byHost = new Map(silences.map((s) => [s.host, s]));
  return {
    name: 'silence',
    key: silences,
    hostKey: (host) => byHost.get(host) ?? null,
    hostWide(ctx, device, host) {
      const s = byHost.get(host);
      return s ? silenceEntities(ctx, device, s) : [];
    },
  };
}
