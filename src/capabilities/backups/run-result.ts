/** What one run of a job came to, however it ran (locally or over SSH). */
export interface RunResult {
  readonly ok: boolean;
  /** Null when the process ended by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** It ran past its timeout and was killed. */
  readonly timedOut: boolean;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** The last bytes of each stream (`backups.tail`). */
  readonly stdout: string;
  readonly stderr: string;
  /** Why it did not run or failed, in words; undefined on success. */
  readonly error?: string;
}

/** Runs one job's command once; `RunResult` whatever happened, never a rejection. */
export interface JobProcess {
  run(argv: readonly string[], timeoutMs: number): Promise<RunResult>;
}

/** The reason of a failed result in words. */
export function failureText(r: RunResult, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${Math.round(timeoutMs / 1000)} s and was killed`;
  if (r.error) return r.error;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode}`;
}
