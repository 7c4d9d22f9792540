import { describe, expect, it } from 'vitest';
import { logEvent } from '../../../src/core/alert-log.js';
import { memoryLogger } from '../../helpers/memory-logger.js';

describe('logEvent', () => {
  it('logs an alert in its own words: warn from warning up, info for info', () => {
    const { log, lines } = memoryLogger();
    logEvent(log, {
      type: 'container_down',
      severity: 'critical',
      subject: 'nas/radarr',
      data: {
        message: 'nas/radarr has been down for 6 min: exited (137)',
        incident: { id: '01INC', opened_at: '2026-01-01T00:00:00.000Z' },
      },
    });
    logEvent(log, {
      type: 'remediation_completed',
      severity: 'info',
      subject: 'nas/radarr',
      data: { message: 'Restart of nas/radarr done: running' },
    });
    logEvent(log, { type: 'events_dropped', severity: 'warning', subject: 'store' });
    expect(lines.map(({ level, msg, type, incident }) => ({ level, msg, type, incident }))).toEqual(
      [
        {
          level: 'warn',
          msg: 'nas/radarr has been down for 6 min: exited (137)',
          type: 'container_down',
          incident: '01INC',
        },
        {
          level: 'info',
          msg: 'Restart of nas/radarr done: running',
          type: 'remediation_completed',
          incident: undefined,
        },
        { level: 'warn', msg: 'events_dropped store', type: 'events_dropped', incident: undefined },
      ],
    );
  });
});
