import { describe, expect, it } from 'vitest';
import { OutpostError } from '../../../src/core/errors.js';
import { parseEvent } from '../../../src/hosts/engine-events.js';

const ID = 'd9d95870f9375615e4cc8ab28075cb594e8652f4ac44154f905aa4bf9b371e42';

describe('engine event lines', () => {
  it('reads a docker event, dropping the health_status suffix', () => {
    // Real docker nanosecond times exceed 2^53: JSON.parse rounds them, harmless at ms scale.
    const line =
      `{"status":"health_status: unhealthy","id":"${ID}","Type":"container",` +
      `"Action":"health_status: unhealthy","Actor":{"ID":"${ID}","Attributes":{"name":"hc"}},` +
      `"time":1795312452,"timeNano":1795312452742960009}`;
    expect(parseEvent(line, 7)).toEqual({
      id: ID,
      action: 'health_status',
      timeNano: Number('1795312452742960009'),
      receivedAt: 7,
    });
  });

  it('reads a podman event (time in seconds only is enough)', () => {
    const line = JSON.stringify({
      status: 'remove',
      id: ID,
      Type: 'container',
      Action: 'remove',
      Actor: { ID, Attributes: { containerExitCode: '0' } },
      time: 1795312461,
    });
    expect(parseEvent(line, 7)).toEqual({
      id: ID,
      action: 'remove',
      timeNano: 1795312461e9,
      receivedAt: 7,
    });
  });

  it('skips other event types and events without a container id', () => {
    expect(
      parseEvent(JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID } }), 0),
    ).toBeUndefined();
    expect(
      parseEvent(JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'x y' } }), 0),
    ).toBeUndefined();
  });

  it('calls a line that is not JSON, or not an object, a corrupt stream', () => {
    const bad = parseEvent('{"Type":"contai', 0);
    expect(bad).toBeInstanceOf(OutpostError);
    expect((bad as OutpostError).code).toBe('ENGINE_BAD_OUTPUT');
    expect((bad as OutpostError).message).toMatch(/not JSON: "\{\\"Type\\":\\"contai"/);
    expect(parseEvent('42', 0)).toBeInstanceOf(OutpostError);
  });
});
