import { alertData, type AlertText, type NewEvent, type Severity } from '../core/events.js';
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
  const outcome = rec.result?.message ?? rec.decision.message;
  return {
    type,
    severity: SEVERITY[type],
    subject: rec.target,
    ts,
    data: alertData(
      {
        action_id: rec.id,
        action: rec.action,
        target: rec.target,
        status: rec.status,
        origin: rec.origin,
        requested_by: rec.requested_by,
        reason: rec.reason,
        decision: rec.decision.code,
        // The executor's or the policy's own words (the alert's `message` says more).
        outcome,
        notify,
      },
      actionText(type, rec, outcome),
    ),
  };
}

/**
 * An action's step in plain words (issue #14): "restart of nas/radarr is waiting for
 * approval: …", "restart of nas/radarr failed: exit code 3".
 */
export function actionText(
  type: RemediationEventType,
  rec: ActionRecord,
  outcome: string,
): AlertText {
  const what = `${ACTION_WORDS[rec.action] ?? rec.action} of ${rec.target}`;
  const who =
    rec.origin === 'self_heal'
      ? 'self-healing'
      : `${rec.requested_by ?? 'someone'} (${rec.origin})`;
  const why = rec.reason ? `, because: ${rec.reason}` : '';
  const approver = rec.history.findLast((h) => h.status === 'approved' && h.by !== 'policy')?.by;
  switch (type) {
    case 'remediation_pending':
      return {
        title: `${capital(what)} needs approval`,
        message: `${capital(what)} asked by ${who} is waiting for approval: ${outcome}${why}`,
      };
    case 'remediation_started':
      return {
        title: `${capital(what)} started`,
        message:
          `${capital(what)} started, asked by ${who}` +
          `${approver ? `, approved by ${approver}` : `: ${rec.decision.message}`}${why}`,
      };
    case 'remediation_completed':
      return { title: `${capital(what)} done`, message: `${capital(what)} done: ${outcome}` };
    case 'remediation_failed': {
      const status = rec.status === 'failed' ? 'failed' : rec.status;
      const by = rec.history.at(-1)?.by;
      const byWhom = rec.status === 'rejected' && by ? ` by ${by}` : '';
      return {
        title: `${capital(what)} ${status}`,
        message: `${capital(what)} ${status}${byWhom}: ${outcome}`,
      };
    }
  }
}

const ACTION_WORDS: Readonly<Record<string, string>> = {
  restart_container: 'restart',
  start_container: 'start',
  stop_container: 'stop',
  run_backup: 'backup run',
  disk_cleanup: 'disk cleanup',
};

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A target started or stopped flapping: one alert each way. `subject` is the container's
 * as its other events name it (`<host>/<key>`), the target's name otherwise.
 */
export function flapEvent(
  target: string,
  change: 'started' | 'settled',
  ts: number,
  subject = target,
): NewEvent {
  const slash = target.indexOf('/');
  const place = slash < 0 ? {} : { host: target.slice(0, slash), name: target.slice(slash + 1) };
  const text: AlertText =
    change === 'started'
      ? {
          title: `${subject} is flapping`,
          message: `${subject} changes state too often: no automatic actions until it settles`,
        }
      : { title: `${subject} has settled`, message: `${subject} has settled` };
  return {
    type: change === 'started' ? 'container_flapping' : 'container_settled',
    severity: change === 'started' ? 'warning' : 'info',
    subject,
    ts,
    data: alertData({ target, ...place, notify: change === 'started' }, text),
  };
}
