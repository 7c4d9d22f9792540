import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unixSocketIsBound } from '../../helpers/journald.js';
import { withTempDir } from '../../helpers/tmp.js';

/**
 * The bench starts a journald only when no process has the journal socket bound; a stale
 * socket file left behind by a journald that died must not count as one.
 */
describe('unixSocketIsBound', () => {
  it('is true while a server listens on the path and false once it has closed', async () => {
    await withTempDir('bound', async (dir) => {
      const path = join(dir, 'socket');
      expect(unixSocketIsBound(path)).toBe(false);
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(path, resolve));
      expect(unixSocketIsBound(path)).toBe(true);
      expect(unixSocketIsBound(`${path}x`)).toBe(false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A file left at the path is not a live socket.
      if (!existsSync(path)) writeFileSync(path, '');
      expect(unixSocketIsBound(path)).toBe(false);
    });
  });
});
