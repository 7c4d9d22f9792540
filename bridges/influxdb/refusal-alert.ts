import type { Clock } from '../../src/core/clock.js';
import { alertData, type NewEvent } from '../../src/core/events.js';
import type { SetAside } from './point-writer.js';

export const REFUSED_EVENT = 'influxdb_points_refused';

/**
 * Points InfluxDB refused are history lost, so the site hears of it (issue 19): one
 * `influxdb_points_refused` warning at the first refusal, then at most one per `everyMs`
 * while refusals go on (a schema clash refuses every point of its kind; one alert says so).
 */
export function refusalAlert(
  record: (e: NewEvent) => void,
  clock: Clock,
  everyMs = 3_600_000,
): (p: SetAside, total: number) => void {
  let last = -Infinity;
  let reported = 0;
  return (p, total) => {
    const at = clock.now();
    if (at - last < everyMs) return;
    const since = total - reported;
    last = at;
    reported = total;
    const title = 'InfluxDB refused points';
    const message =
      `InfluxDB refused ${since} point${since === 1 ? '' : 's'} of ${p.measurement} ` +
      `(${p.reason}); they are set aside, the rest of the history goes on`;
    record({
      type: REFUSED_EVENT,
      severity: 'warning',
      subject: 'influxdb',
      ts: at,
      data: alertData(
        { measurement: p.measurement, reason: p.reason, refused: since, refused_total: total },
        { title, message },
      ),
    });
  };
}
