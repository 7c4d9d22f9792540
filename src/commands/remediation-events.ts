import type { NewEvent, Severity } from '../core/events.js';
import type { ActionRecord } from './actions.js';

/**
 * Remediation's events for the event store (DESIGN.md event types), produced through a
 * callback so remediation never writes the store itself. `data.notify` says whether a
 * person should hear about it: self-healing in auto mode only notifies on failure.
 */

export type RemediationEventType =
  'remediation_pending' | 'remediation_started' | 'remediation_completed' | 'remediation_failed';

const SEVERITY: Record<RemediationEventType, Severity> = {
  remediation_pending: 'warning',
  remediation_started: 'info',
  remediation_completed: 'info',
  remediation_failed: 'error',
};

export function actionEvent(
  type: RemediationEventType,
  rec: ActionRecord,
  notify: boolean,
  ts: number,
): NewEvent {
  return {
    type,
    severity: SEVERITY[type],
    subject: rec.target,
    ts,
    data: {
      action_id: rec.id,
      action: rec.action,
      target: rec.target,
      status: rec.status,
      origin: rec.origin,
      requested_by: rec.requested_by,
      reason: rec.reason,
      decision: rec.decision.code,
      message: rec.result?.message ?? rec.decision.message,
      notify,
    },
  };
}

/** A target started or stopped flapping: one alert each way. */
export function flapEvent(target: string, change: 'started' | 'settled', ts: number): NewEvent {
  return {
    type: change === 'started' ? 'container_flapping' : 'container_settled',
    severity: change === 'started' ? 'warning' : 'info',
    subject: target,
    ts,
    data: {
      target,
      message:
        change === 'started'
          ? `${target} changes state too often: no automatic actions until it settles`
          : `${target} has settled`,
      notify: change === 'started',
    },
  };
}
