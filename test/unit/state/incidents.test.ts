import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { StateFile } from '../../../src/core/state-file.js';
import {
  incidentRef,
  Incidents,
  incidentsFileSchema,
  type IncidentsFile,
} from '../../../src/state/incidents.js';
import { memoryLogger } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-22T00:00:00Z');

describe('Incidents', () => {
  let n = 0;
  const newId = () => `inc-${++n}`;

  it('keeps subjects of different kinds apart: a host named watchdog is not the watchdog', () => {
    const book = new Incidents({ newId });
    const host = book.raise('watchdog', 'reach', 'critical', T0, { kind: 'host' });
    const dog = book.raise('watchdog', 'verdict', 'warning', T0 + MIN, { kind: 'watchdog' });
    expect(dog.opened).toBe(true);
    expect(dog.incident.id).not.toBe(host.incident.id);
    expect(book.close('watchdog', 'watchdog')?.id).toBe(dog.incident.id);
    expect(book.get('host', 'watchdog')).toMatchObject({
      id: host.incident.id,
      severity: 'critical',
    });
    expect(book.list().map((i) => i.kind)).toEqual(['host']);
  });

  it('opens one incident per subject and counts its alerts; severity follows the open signals', () => {
    const book = new Incidents({ newId });
    const first = book.raise('nas/web', 'flapping', 'warning', T0, {
      kind: 'container',
      target: 'nas/web-1',
    });
    expect(first.opened).toBe(true);
    const again = book.raise('nas/web', 'alert', 'critical', T0 + 5 * MIN, {
      kind: 'container',
      since: T0 - MIN,
    });
    expect(again.opened).toBe(false);
    expect(again.incident).toMatchObject({
      id: first.incident.id,
      severity: 'critical',
      since: T0 - MIN, // a later signal knows the problem began earlier
      openedAt: T0,
      lastAlertAt: T0 + 5 * MIN,
      alerts: 2,
      target: 'nas/web-1',
    });
    expect(book.find('nas/web-1')?.id).toBe(first.incident.id);
    expect(incidentRef(again.incident, T0 + 6 * MIN, 'open')).toEqual({
      id: first.incident.id,
      opened_at: '2026-11-22T00:00:00.000Z',
      status: 'open',
      alerts: 2,
      open_s: 360,
    });
    // One signal ends: still open, at the severity of what is left.
    expect(book.clear('container', 'nas/web', 'alert')).toMatchObject({
      closed: false,
      incident: { severity: 'warning' },
    });
    expect(book.clear('container', 'nas/web', 'flapping')).toMatchObject({ closed: true });
    expect(book.get('container', 'nas/web')).toBeUndefined();
    // A new outage is a new incident.
    const next = book.raise('nas/web', 'alert', 'critical', T0 + 9 * MIN, { kind: 'container' });
    expect(next.opened).toBe(true);
    expect(next.incident.id).not.toBe(first.incident.id);
    expect(book.close('container', 'nas/web')?.id).toBe(next.incident.id);
    expect(book.close('container', 'nas/web')).toBeUndefined();
  });

  describe('kept in the data dir', () => {
    let dir: string;
    let path: string;
    beforeEach(async () => {
      dir = await makeTempDir('incidents');
      path = join(dir, 'incidents.json');
    });
    afterEach(() => removeTempDir(dir));
    const file = (log = silentLogger()) => new StateFile(path, incidentsFileSchema, log);

    it('survives a restart: open incidents come back, closed ones are dropped', async () => {
      const before = new Incidents({ newId, file: file() });
      const db = before.raise('nas/db', 'alert', 'critical', T0, { kind: 'container' }).incident;
      before.raise('nas/web', 'alert', 'warning', T0, { kind: 'container' });
      before.close('container', 'nas/web');
      const saved = JSON.parse(await readFile(path, 'utf8')) as IncidentsFile;
      expect(saved.open.map((i) => i.subject)).toEqual(['nas/db']);
      const after = new Incidents({ newId, file: file() });
      expect(after.list()).toEqual([db]);
      expect(
        after.raise('nas/db', 'alert', 'critical', T0 + MIN, { kind: 'container' }),
      ).toMatchObject({
        opened: false,
        incident: { id: db.id, alerts: 2 },
      });
    });

    it('a damaged file is set aside and named in the log; the agent starts without it', async () => {
      await writeFile(path, JSON.stringify({ version: 1, open: [{ id: 'x', subject: 's' }] }));
      const { log, lines } = memoryLogger();
      const book = new Incidents({ newId, file: file(log) });
      expect(book.size).toBe(0);
      expect(existsSync(`${path}.damaged`)).toBe(true);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: 'state file damaged: ignored',
          file: path,
          problem: expect.stringMatching(/^open\.0\.kind: .*; open\.0\.signals: /),
        }),
      ]);
      book.raise('nas/db', 'alert', 'critical', T0, { kind: 'container' });
      expect(new Incidents({ newId, file: file() }).size).toBe(1);
    });

    it('a write that fails keeps the incident in memory and says so once', () => {
      const { log, lines } = memoryLogger();
      const gone = new StateFile(join(dir, 'missing', 'incidents.json'), incidentsFileSchema, log);
      const book = new Incidents({ newId, file: gone });
      book.raise('nas/db', 'alert', 'critical', T0, { kind: 'container' });
      book.raise('nas/web', 'alert', 'critical', T0, { kind: 'container' });
      expect(book.size).toBe(2);
      expect(lines.map((l) => [l.level, l.msg])).toEqual([
        ['error', 'state file not written: kept in memory only until it can be'],
      ]);
    });
  });
});
