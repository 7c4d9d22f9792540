import { z } from 'zod';

/**
 * What the agent keeps of each job across restarts (`<data_dir>/backups.json`): the last
 * success is the dead-man's switch's anchor, and the last start tells whether a scheduled
 * run was missed while the agent was down. Epoch ms throughout.
 */
const record = z.strictObject({
  /** When the agent first watched this job: a job that never succeeded is late from here. */
  watched_since: z.number(),
  last_success: z.number().nullable(),
  /** When the last run (or report) ended. */
  last_run: z.number().nullable(),
  /** When the last run began; a catch-up compares it with the previous fire time. */
  last_started: z.number().nullable(),
  last_outcome: z.enum(['success', 'failed']).nullable(),
  exit_code: z.number().int().nullable(),
  duration_s: z.number().nullable(),
  size: z.number().nullable(),
  message: z.string().nullable(),
});
export type JobRecord = z.output<typeof record>;

export const backupsFileSchema = z.strictObject({
  version: z.literal(1),
  jobs: z.record(z.string(), record),
});
export type BackupsFile = z.output<typeof backupsFileSchema>;
export const BACKUPS_FILE = 'backups.json';

export function newRecord(now: number): JobRecord {
  return {
    watched_since: now,
    last_success: null,
    last_run: null,
    last_started: null,
    last_outcome: null,
    exit_code: null,
    duration_s: null,
    size: null,
    message: null,
  };
}
