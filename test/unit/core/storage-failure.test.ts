import { describe, expect, it } from 'vitest';
import { OutpostError } from '../../../src/core/errors.js';
import { storageFailure } from '../../../src/core/storage-failure.js';
import { StoreError } from '../../../src/store/event-store.js';

/** Errors as node:fs and better-sqlite3 throw them (codes and messages as seen here). */
const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('storageFailure', () => {
  it.each([
    [errno('ENOSPC', 'ENOSPC: no space left on device, write'), 'disk_full'],
    [errno('EDQUOT', 'EDQUOT: disk quota exceeded, write'), 'disk_full'],
    [errno('SQLITE_FULL', 'database or disk is full'), 'disk_full'],
    [errno('EROFS', 'EROFS: read-only file system, open'), 'read_only'],
    [errno('SQLITE_READONLY_DBMOVED', 'attempt to write a readonly database'), 'read_only'],
    [errno('EIO', 'EIO: i/o error, write'), 'io'],
    [errno('ECONNRESET', 'read ECONNRESET'), undefined],
    [errno('SQLITE_IOERR_WRITE', 'disk I/O error'), 'io'],
    [new StoreError('disk_full', '/d/events.db', 'appending failed'), 'disk_full'],
  ] as const)('%s is %s', (err, expected) => {
    expect(storageFailure(err)).toBe(expected);
  });

  it('looks through the causes our own errors wrap', () => {
    const inner = errno('ENOSPC', 'ENOSPC: no space left on device, write');
    const outer = new OutpostError('INTERNAL', 'audit log /d/audit.jsonl: ENOSPC', {
      cause: inner,
    });
    expect(storageFailure(outer)).toBe('disk_full');
  });

  it('leaves everything else alone', () => {
    expect(storageFailure(new Error('no such packet'))).toBeUndefined();
    expect(storageFailure(errno('ENOENT', 'no such file'))).toBeUndefined();
    expect(
      storageFailure(new StoreError('bad_event', '/d/events.db', 'type: bad')),
    ).toBeUndefined();
    expect(storageFailure(new StoreError('closed', '/d/events.db', 'closed'))).toBeUndefined();
    expect(storageFailure('ENOSPC')).toBeUndefined();
    expect(storageFailure(undefined)).toBeUndefined();
  });
});
