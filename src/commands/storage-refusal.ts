import { errorMessage } from '../core/errors.js';
import { storageFailure } from '../core/storage-failure.js';
import { commandError, type CommandError } from './command.js';

/**
 * The answer's error for a command refused because the agent could not write what it must
 * write before acting (the audit line, the action record): `storage_full` while the disk is
 * full, retryable — the same command, same id, runs once space is freed; and
 * `storage_unavailable` for a read-only file system (retryable: false, it needs a person)
 * or another I/O error. Undefined when the disk is not what failed.
 */
export function storageRefusal(err: unknown): CommandError | undefined {
  const failure = storageFailure(err);
  if (failure === undefined) return undefined;
  const why = errorMessage(err);
  if (failure === 'disk_full') {
    const msg = `the agent's disk is full, so the command could not be recorded: ${why}`;
    return { ...commandError('storage_full', null, msg), retryable: true };
  }
  const msg = `the agent could not write to its disk, so the command could not be recorded: ${why}`;
  return { ...commandError('storage_unavailable', null, msg), retryable: failure === 'io' };
}
