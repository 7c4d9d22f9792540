import { describe, expect, it } from 'vitest';
import { OutpostError } from '../../../src/core/errors.js';
import { parseEvent } from '../../../src/hosts/engine-events.js';

const ID = 'd9d95870f9375615e4cc8ab28075cb594e8652f4ac44154f905aa4bf9b371e42';

describe('engine event lines', () => {
  it('reads a docker event: the health_status suffix is its result', () => {
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
      health: 'unhealthy',
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

  it('reads the exit code of a die, and podman’s health result (as its API sent them)', () => {
    const attrs = { containerExitCode: '137', exitCode: '137', name: 'x', podId: '' };
    const die = {
      status: 'die',
      id: ID,
      Type: 'container',
      Action: 'die',
      Actor: { ID, Attributes: attrs },
    };
    expect(parseEvent(JSON.stringify({ ...die, timeNano: 1796623416087e6 }), 7)).toMatchObject({
      action: 'die',
      exitCode: 137,
    });
    const died = {
      ...die,
      status: 'died',
      Action: 'died',
      Actor: { ID, Attributes: { exitCode: '3' } },
    };
    expect(parseEvent(JSON.stringify(died), 7)).toMatchObject({ action: 'die', exitCode: 3 });
    const health = {
      status: 'health_status',
      id: ID,
      Type: 'container',
      Action: 'health_status',
      Actor: { ID, Attributes: { containerExitCode: '0', name: 'hc' } },
      timeNano: 1796623516376e6,
      HealthStatus: 'healthy',
    };
    expect(parseEvent(JSON.stringify(health), 7)).toMatchObject({
      action: 'health_status',
      health: 'healthy',
    });
    const garbage = { ...health, HealthStatus: 'fine' };
    expect(parseEvent(JSON.stringify(garbage), 7)).not.toHaveProperty('health');
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
