import { approvalOption, NO_SELECTION } from '../../src/commands/actions.js';
import { topics } from '../../src/core/topics.js';
import { buildEntity, fieldTemplate } from '../entity-builder.js';
import type { DeviceRef, DiscoveryConfig, DiscoveryContext } from '../entity.js';
import type { EntityFamily } from '../family.js';
import { alertEventTemplate, REMEDIATION_EVENT_TYPES } from './event-types.js';

/** Remediation on the agent device. */
export interface RemediationDescription {
  /**
   * Retained JSON `{ "pending": n, "actions": [...] }` of the actions awaiting approval
   * (`topics.pendingActions`); the sensor is only made when a topic is given.
   */
  readonly pendingTopic?: string;
  /**
   * Actions awaiting approval, oldest first: the select lists them, and each gets an
   * approve and a reject button of its own while it waits.
   */
  readonly pending?: readonly PendingAction[];
}

/** Options the select lists at most (the oldest actions): its config stays a few KiB. */
export const MAX_SELECT_OPTIONS = 100;

/** What a button press of the fixed approval entities claims about its sender (audited). */
const FROM_HA = 'home-assistant';

/** One action awaiting a human decision. */
export interface PendingAction {
  readonly id: string;
  readonly action: string;
  readonly target: string;
}

/** Pending actions (when there is a topic for them) and an event entity for outcomes. */
export function remediationEntities(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
  r: RemediationDescription = {},
): DiscoveryConfig[] {
  const out = [
    buildEntity(ctx, agentDevice, {
      kind: 'event_alert',
      domain: 'remediation',
      key: 'outcome',
      name: 'Remediation',
      stateTopic: topics.events(ctx.root),
      valueTemplate: alertEventTemplate(REMEDIATION_EVENT_TYPES),
      options: { event_types: [...REMEDIATION_EVENT_TYPES] },
      icon: 'mdi:auto-fix',
    }),
  ];
  if (r.pendingTopic !== undefined) {
    out.push(
      buildEntity(ctx, agentDevice, {
        kind: 'count',
        domain: 'remediation',
        key: 'pending',
        name: 'Pending actions',
        stateTopic: r.pendingTopic,
        valueTemplate: fieldTemplate('pending'),
        // The list itself, as attributes: what waits, for whom, since when.
        jsonAttributesTopic: r.pendingTopic,
        jsonAttributesTemplate: "{{ {'actions': value_json.actions} | tojson }}",
        icon: 'mdi:account-clock',
        ownedStateTopics: [r.pendingTopic],
      }),
      ...fixedApprovalEntities(ctx, agentDevice, r.pendingTopic, r.pending ?? []),
    );
  }
  for (const p of r.pending ?? []) out.push(...approvalButtons(ctx, agentDevice, p));
  return out;
}

/**
 * Entities whose ids never change (issue 14), so a dashboard or an automation can pin
 * them: `Approve oldest` / `Reject oldest`, a select of the pending actions, and
 * `Approve selected` / `Reject selected`. A press is a command like any other approval:
 * the same policy, the same approver rules (who pressed is HA's broker login), the same
 * audit, which names the action the press decided.
 */
function fixedApprovalEntities(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
  pendingTopic: string,
  pending: readonly PendingAction[],
): DiscoveryConfig[] {
  const button = (verdict: 'approve' | 'reject', pick: 'oldest' | 'selected') =>
    buildEntity(ctx, agentDevice, {
      kind: 'button_run',
      domain: 'remediation',
      key: `${verdict}_${pick}`,
      name: `${verdict === 'approve' ? 'Approve' : 'Reject'} ${pick}`,
      commandTopic: topics.command(ctx.root, verdict),
      icon: verdict === 'approve' ? 'mdi:check-decagram' : 'mdi:close-octagon',
      options: { payload_press: JSON.stringify({ [pick]: true, requested_by: FROM_HA }) },
    });
  const none = JSON.stringify(NO_SELECTION);
  const select = buildEntity(ctx, agentDevice, {
    kind: 'choice',
    domain: 'remediation',
    key: 'selected',
    name: 'Pending action',
    // The pending summary's `selected`, while that action is pending; else the "none" option.
    stateTopic: pendingTopic,
    valueTemplate: `{{ value_json['selected']['option'] if value_json.get('selected') else ${none} }}`,
    commandTopic: topics.command(ctx.root, 'select'),
    options: {
      // Option texts carry the action id: the agent finds the action by its text.
      options: [NO_SELECTION, ...pending.slice(0, MAX_SELECT_OPTIONS).map(approvalOption)],
      command_template: `{{ {'option': value, 'requested_by': '${FROM_HA}'} | tojson }}`,
    },
  });
  return [
    button('approve', 'oldest'),
    button('reject', 'oldest'),
    select,
    button('approve', 'selected'),
    button('reject', 'selected'),
  ];
}

/**
 * Approve and reject buttons for one pending action: the human in the loop, from Home
 * Assistant. They go through the same command topics (and policy and audit) as any other
 * approval, and vanish once the action is decided or expires.
 */
function approvalButtons(
  ctx: DiscoveryContext,
  agentDevice: DeviceRef,
  p: PendingAction,
): DiscoveryConfig[] {
  const what = `${p.action.replace(/_/g, ' ')} ${p.target}`;
  const press = JSON.stringify({ target: p.id, requested_by: 'home-assistant' });
  return (['approve', 'reject'] as const).map((verdict) =>
    buildEntity(ctx, agentDevice, {
      kind: 'button_run',
      domain: 'remediation',
      subject: p.id,
      key: verdict,
      name: `${verdict === 'approve' ? 'Approve' : 'Reject'} ${what}`,
      commandTopic: topics.command(ctx.root, verdict),
      icon: verdict === 'approve' ? 'mdi:check-decagram' : 'mdi:close-octagon',
      options: { payload_press: press },
    }),
  );
}

/** Maintenance mode for one host: silences alerts and self-healing while on. */
export interface MaintenanceDescription {
  readonly host: string;
  /** Retained JSON `{ "maintenance": true|false }`; without it the switch is optimistic. */
  readonly stateTopic?: string;
}

export function maintenanceEntities(
  ctx: DiscoveryContext,
  hostDevice: DeviceRef,
  m: MaintenanceDescription,
): DiscoveryConfig[] {
  const command = (enabled: boolean) => JSON.stringify({ target: m.host, enabled });
  const state =
    m.stateTopic === undefined
      ? {}
      : {
          stateTopic: m.stateTopic,
          valueTemplate: `{{ 'ON' if value_json.get('maintenance') else 'OFF' }}`,
          ownedStateTopics: [m.stateTopic],
        };
  return [
    buildEntity(ctx, hostDevice, {
      kind: 'maintenance_switch',
      domain: 'host',
      key: 'maintenance',
      name: 'Maintenance',
      commandTopic: topics.command(ctx.root, 'maintenance'),
      // payload_on/off are what HA sends; state_on/off are what the template yields.
      options: {
        payload_on: command(true),
        payload_off: command(false),
        state_on: 'ON',
        state_off: 'OFF',
      },
      ...state,
    }),
  ];
}

/**
 * The remediation family: the pending-actions sensor, the fixed approval entities, each
 * pending action's approve and reject buttons and the outcome event on the agent's device; a maintenance switch on each host in
 * `maintenance` (where the policy would act on one).
 */
export function remediationFamily(
  r: RemediationDescription,
  maintenance: readonly MaintenanceDescription[],
): EntityFamily {
  const byHost = new Map(maintenance.map((m) => [m.host, m]));
  return {
    name: 'remediation',
    key: { r, maintenance },
    agentKey: r,
    hostKey: (host) => byHost.get(host) ?? null,
    agent: (ctx, device) => remediationEntities(ctx, device, r),
    hostWide(ctx, device, host) {
      const m = byHost.get(host);
      return m ? maintenanceEntities(ctx, device, m) : [];
    },
  };
}
