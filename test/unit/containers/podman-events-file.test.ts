import { appendFile, mkdir, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeenEvents } from '../../../src/collectors/containers/seen-events.js';
import { systemClock } from '../../../src/core/clock.js';
import { parseEvent, type EngineEvent } from '../../../src/hosts/engine-events.js';
import { nanosOf, parsePodmanEventLine } from '../../../src/hosts/podman-event-line.js';
import { PodmanEventsFile } from '../../../src/hosts/podman-events-file.js';
import { eventually } from '../../helpers/eventually.js';
import { memoryLogger, type LogLine } from '../../helpers/memory-logger.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const ID = '97f64cd65e02e931521814124d15bcf2e9e9dd06317a686a61ae82c2cbac1b99';

/** Lines as podman 4.3.1 wrote them to its events file here (events_logger = "file"). */
const FILE = {
  start: `{"ID":"${ID}","Image":"localhost/busybox:test","Name":"dump","Status":"start","Time":"2026-12-07T09:44:53.549985963Z","Type":"container","Attributes":{}}`,
  died: `{"ContainerExitCode":137,"ID":"${ID}","Image":"localhost/busybox:test","Name":"dump","Status":"died","Time":"2026-12-07T09:44:53.934842441Z","Type":"container","Attributes":{}}`,
  health: `{"ID":"${ID}","Image":"localhost/busybox:test","Name":"dump","Status":"health_status","Time":"2026-12-07T09:44:53.762206593Z","Type":"container","health_status":"starting","Attributes":{}}`,
  create: `{"ID":"${ID}","Image":"localhost/busybox:test","Name":"dump","Status":"create","Time":"2026-12-07T09:44:53.35000717Z","Type":"container","Attributes":{}}`,
  image: `{"ID":"1b4f9b32bfc99c3f52adbd1060ff0abb4d91f60e10bb24cc4d34638712e8e8f5","Name":"localhost/busybox:test","Status":"tag","Time":"2026-12-07T09:44:53.294206859Z","Type":"image","Attributes":null}`,
};
/** The same events as podman's Docker-compatible /events API sent them. */
const API = {
  start: `{"status":"start","id":"${ID}","from":"localhost/busybox:test","Type":"container","Action":"start","Actor":{"ID":"${ID}","Attributes":{"containerExitCode":"0","image":"localhost/busybox:test","name":"dump","podId":""}},"scope":"local","time":1796636693,"timeNano":1796636693549985963}`,
  died: `{"status":"die","id":"${ID}","from":"localhost/busybox:test","Type":"container","Action":"die","Actor":{"ID":"${ID}","Attributes":{"containerExitCode":"137","exitCode":"137","image":"localhost/busybox:test","name":"dump","podId":""}},"scope":"local","time":1796636693,"timeNano":1796636693934842441}`,
  health: `{"status":"health_status","id":"${ID}","from":"localhost/busybox:test","Type":"container","Action":"health_status","Actor":{"ID":"${ID}","Attributes":{"containerExitCode":"0","image":"localhost/busybox:test","name":"dump","podId":""}},"scope":"local","time":1796636693,"timeNano":1796636693762206593,"HealthStatus":"starting"}`,
  create: `{"status":"create","id":"${ID}","from":"localhost/busybox:test","Type":"container","Action":"create","Actor":{"ID":"${ID}","Attributes":{"containerExitCode":"0","image":"localhost/busybox:test","name":"dump","podId":""}},"scope":"local","time":1796636693,"timeNano":1796636693350007170}`,
};

describe('a line of podman’s events file', () => {
  it('says what the API stream’s copy of the same event says', () => {
    for (const k of ['start', 'died', 'health', 'create'] as const) {
      expect(parsePodmanEventLine(FILE[k], 5), k).toEqual(parseEvent(API[k], 5));
    }
    expect(parsePodmanEventLine(FILE.died, 5)).toMatchObject({ action: 'die', exitCode: 137 });
    expect(parsePodmanEventLine(FILE.health, 5)).toMatchObject({ health: 'starting' });
  });

  it('reads a died without ContainerExitCode as exit 0 (podman leaves a 0 out)', () => {
    const line = FILE.died.replace('"ContainerExitCode":137,', '');
    expect(parsePodmanEventLine(line, 0)).toMatchObject({ action: 'die', exitCode: 0 });
  });

  it('skips other types and says what is wrong with a line that is no event', () => {
    expect(parsePodmanEventLine(FILE.image, 0)).toBeUndefined();
    expect(parsePodmanEventLine('{"ID":', 0)).toBe('not JSON');
    expect(parsePodmanEventLine('[1]', 0)).toBe('expected a JSON object (one podman event)');
    expect(parsePodmanEventLine(FILE.start.replace(ID, 'abc'), 0)).toBe(
      'ID "abc": expected a container id (64 hex digits)',
    );
    expect(parsePodmanEventLine(FILE.start.replace('"Status":"start",', ''), 0)).toBe(
      'Status missing: expected an event name such as "start" or "died"',
    );
    expect(parsePodmanEventLine(FILE.start.replace(/"Time":"[^"]+"/, '"Time":"today"'), 0)).toBe(
      'Time "today": expected an RFC 3339 time such as "2026-12-07T09:44:53.549985963Z"',
    );
    expect(parsePodmanEventLine(FILE.died.replace('137', '"x"'), 0)).toBe(
      'ContainerExitCode "x": expected an exit code 0–255',
    );
    // Unknown fields are podman's business.
    expect(parsePodmanEventLine(FILE.start.replace('{', '{"New":[1],'), 0)).toMatchObject({
      action: 'start',
    });
  });

  it('reads times with an offset and fewer digits to the same ns', () => {
    // As JSON.parse reads the API's timeNano (a double: ns past 2^53 are rounded alike).
    expect(nanosOf('2026-12-07T10:44:53.549985963+01:00')).toBe(Number('1796636693549985963'));
    expect(nanosOf('2026-12-07T09:44:53.35000717Z')).toBe(Number('1796636693350007170'));
    expect(nanosOf('2026-12-07T09:44:53Z')).toBe(1796636693000000000);
    expect(nanosOf('2026-12-07 09:44:53Z')).toBeUndefined();
  });
});

describe('the two copies of one event', () => {
  it('are acted on once, whichever comes first; another event is acted on', () => {
    const seen = new SeenEvents(2);
    const file = parsePodmanEventLine(FILE.start, 0) as EngineEvent;
    const stream = parseEvent(API.start, 9) as EngineEvent;
    expect(seen.first(file, 'file')).toBe(true);
    expect(seen.first(stream, 'stream')).toBe(false);
    expect(seen.size).toBe(0);
    const died = parseEvent(API.died, 0) as EngineEvent;
    expect(seen.first(died, 'stream')).toBe(true);
    expect(seen.first(parsePodmanEventLine(FILE.died, 0) as EngineEvent, 'file')).toBe(false);
    // Bounded: copies that never come age out.
    for (const k of ['start', 'died', 'health', 'create'] as const) {
      seen.first(parsePodmanEventLine(FILE[k], 0) as EngineEvent, 'file');
    }
    expect(seen.size).toBe(2);
  });
});

describe('tailing podman’s events file', () => {
  let dir: string;
  let path: string;
  let tail: PodmanEventsFile | undefined;
  let events: EngineEvent[];
  let lines: LogLine[];

  const begin = async (retryMs?: number) => {
    const mem = memoryLogger('debug');
    lines = mem.lines;
    tail = new PodmanEventsFile({
      path,
      clock: systemClock,
      log: mem.log,
      onEvent: (e) => events.push(e),
      ...(retryMs ? { retryMs } : {}),
    });
    await tail.start();
  };
  const actions = () => events.map((e) => e.action);

  beforeEach(async () => {
    dir = await makeTempDir('podman-events');
    path = join(dir, 'events.log');
    events = [];
  });
  afterEach(async () => {
    tail?.stop();
    await tail?.settled();
    tail = undefined;
    await removeTempDir(dir);
  });

  it('reads only what is appended after start, a partial line once whole', async () => {
    await writeFile(path, `${FILE.create}\n`);
    await begin();
    await appendFile(path, `${FILE.start}\n`);
    await eventually(() => expect(actions()).toEqual(['start']));
    const half = Math.floor(FILE.died.length / 2);
    await appendFile(path, FILE.died.slice(0, half));
    await appendFile(path, `${FILE.died.slice(half)}\n${FILE.health}\n`);
    await eventually(() => expect(actions()).toEqual(['start', 'die', 'health_status']));
    expect(events[1]).toMatchObject({ id: ID, exitCode: 137 });
  });

  it('logs a bad line with its problem, skips it and reads on', async () => {
    await writeFile(path, '');
    await begin();
    await appendFile(path, `{"ID": nope\n${FILE.image}\n${FILE.start}\n`);
    await eventually(() => expect(actions()).toEqual(['start']));
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: 'podman events file: skipped a line: not JSON',
      line: '{"ID": nope',
      path,
    });
  });

  it('waits for a file and a directory that do not exist yet, then reads the new file whole', async () => {
    path = join(dir, 'libpod', 'events', 'events.log');
    await begin(50);
    expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('looking again'))).toBe(
      true,
    );
    await mkdir(join(dir, 'libpod', 'events'), { recursive: true });
    await eventually(() =>
      expect(lines.some((l) => l.msg === 'podman events file watched')).toBe(true),
    );
    await writeFile(path, `${FILE.create}\n${FILE.start}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start']));
  });

  it('after a truncation or a rotation reads on from the new end, replaying nothing', async () => {
    await writeFile(path, '');
    await begin();
    await appendFile(path, `${FILE.create}\n${FILE.start}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start']));
    // Truncated in place (by hand: shorter than what was read), then written again.
    await truncate(path, 0);
    await eventually(() =>
      expect(lines.some((l) => String(l.msg).includes('file truncated'))).toBe(true),
    );
    await appendFile(path, `${FILE.died}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start', 'die']));
    // Rotated by someone else: a new file, no rotation line of podman's in it.
    const tmp = join(dir, 'rotate.tmp');
    await writeFile(tmp, `${FILE.died}\n${FILE.start}\n${FILE.health}\n${FILE.create}\n`);
    await rename(tmp, path);
    await eventually(() =>
      expect(
        lines.some((l) => l.msg === 'podman events file rotated; reading on from its end'),
      ).toBe(true),
    );
    await appendFile(path, `${FILE.health}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start', 'die', 'health_status']));
  });

  /** podman's `log-rotation` line, at `ms` (its Time: when podman rotated). */
  const rotation = (ms: number) =>
    `{"Name":"${path}","Status":"log-rotation","Time":"${new Date(ms).toISOString()}","Type":"system","Attributes":null}`;
  /** A container event line of podman's at `ms`. */
  const at = (line: string, ms: number) =>
    line.replace(/"Time":"[^"]+"/, `"Time":"${new Date(ms).toISOString()}"`);

  it('after podman rotates the file, reads on after its rotation line: the event that made it rotate too', async () => {
    await writeFile(path, '');
    const t0 = Date.now();
    await begin();
    await appendFile(path, `${at(FILE.create, t0 + 1)}\n${at(FILE.start, t0 + 2)}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start']));
    // As podman 4.3 writes it: the newer half (here with an older rotation's line in it),
    // renamed over the old file, then its rotation line and the event, appended.
    const copied = `${rotation(t0 - 5000)}\n${at(FILE.create, t0 + 1)}\n${at(FILE.start, t0 + 2)}\n`;
    await writeFile(join(dir, 'rotate.tmp'), copied);
    await rename(join(dir, 'rotate.tmp'), path);
    await appendFile(path, `${rotation(t0 + 4)}\n${at(FILE.died, t0 + 3)}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start', 'die']));
    // Once more, the rotation line written in the same breath as the copy.
    await writeFile(join(dir, 'rotate.tmp'), `${copied}${rotation(t0 + 6)}\n`);
    await rename(join(dir, 'rotate.tmp'), path);
    await appendFile(path, `${at(FILE.start, t0 + 5)}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start', 'die', 'start']));
    await appendFile(path, `${at(FILE.died, t0 + 7)}\n`);
    await eventually(() => expect(actions()).toEqual(['create', 'start', 'die', 'start', 'die']));
  });

  it('skips a line longer than 1 MiB and reads the next', async () => {
    await writeFile(path, '');
    await begin();
    await appendFile(path, 'x'.repeat((1 << 20) + 10));
    await appendFile(path, `${'y'.repeat(100)}\n${FILE.start}\n`);
    await eventually(() => expect(actions()).toEqual(['start']));
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'podman events file: a line longer than 1 MiB is not an event; skipped',
    ]);
  });
});
