import type { AlertText } from '../../core/events.js';
import { spokenDuration } from '../../core/spoken-duration.js';

/**
 * The words of the backup alerts (issue #14's plain words): the event's `title` and
 * `message`, the log, and Home Assistant's Alerts entity.
 */

/** The last non-empty line of a stream tail, shortened: usually the error. */
export function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim());
  const line = lines.reverse().find((l) => l.length > 0);
  return line === undefined ? undefined : line.slice(0, 200);
}

export function failedText(subject: string, reason: string, detail?: string): AlertText {
  return {
    title: `Backup ${subject} failed`,
    message: `${subject} failed: ${reason}${detail ? ` (${detail})` : ''}`,
  };
}

export function succeededText(
  subject: string,
  durationS: number | null,
  closes: boolean,
): AlertText {
  const took = durationS === null ? '' : ` in ${spokenDuration(durationS * 1000)}`;
  return {
    title: closes ? `Backup ${subject} succeeded again` : `Backup ${subject} succeeded`,
    message: `${subject} succeeded${took}`,
  };
}

export function lateText(
  subject: string,
  lastSuccess: number | null,
  watchedSince: number,
  maxAgeMs: number,
  now: number,
): AlertText {
  const allowed = spokenDuration(maxAgeMs);
  return {
    title: `Backup ${subject} is late`,
    message:
      lastSuccess === null
        ? `${subject} has not succeeded once in the ${spokenDuration(now - watchedSince)} it has been watched (allowed: ${allowed})`
        : `${subject} last succeeded ${spokenDuration(now - lastSuccess)} ago (allowed: ${allowed})`,
  };
}
