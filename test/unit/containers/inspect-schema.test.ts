import { describe, expect, it } from 'vitest';
import { OutpostError } from '../../../src/core/errors.js';
import {
  parseInspectOne,
  parseInspectText,
  parseInspectValue,
} from '../../../src/hosts/inspect-schema.js';
import { dockerApiRecord, olderPodmanRecord, podmanCliRecord, withState } from './fixtures.js';

function errorOf(fn: () => unknown): OutpostError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OutpostError);
    return err as OutpostError;
  }
  throw new Error('expected a throw');
}

describe('inspect output parsing', () => {
  it('accepts docker, podman and older podman records, keeping unknown fields', () => {
    const text = JSON.stringify([dockerApiRecord(), podmanCliRecord(), olderPodmanRecord()]);
    const records = parseInspectText(text, 'nas');
    expect(records.map((r) => r.Name)).toEqual(['/hc', 'hc', 'hc']);
    expect(records[0]!.State.Health?.Status).toBe('unhealthy');
    expect(records[2]!.State.Healthcheck?.Status).toBe('unhealthy');
    expect((records[0] as Record<string, unknown>).HostConfig).toEqual({ NetworkMode: 'none' });
  });

  it('accepts null labels (containers created without any)', () => {
    const r = dockerApiRecord({ Config: { Image: 'x', Labels: null } });
    expect(parseInspectValue([r], 'local')[0]!.Config.Labels).toBeNull();
  });

  it('says truncated output is not JSON, with its size and start', () => {
    const text = JSON.stringify([dockerApiRecord()]).slice(0, 120);
    const err = errorOf(() => parseInspectText(text, 'nas: docker inspect'));
    expect(err.code).toBe('ENGINE_BAD_OUTPUT');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      /^nas: docker inspect: output is not valid JSON \(.+; 120 bytes, starting "\[\{/,
    );
  });

  it('names the field, the value and the expectation for a wrong shape', () => {
    const bad = withState(dockerApiRecord(), { Status: 5 });
    const err = errorOf(() => parseInspectValue([podmanCliRecord(), bad], 'nas'));
    expect(err.message).toBe(
      'nas: unexpected output: containers[1].State.Status: expected a string, got 5',
    );
  });

  it('refuses an id that is not 12-64 hex digits', () => {
    const err = errorOf(() => parseInspectOne(dockerApiRecord({ Id: 'abc;rm -rf /' }), 'local'));
    expect(err.message).toBe(
      'local: unexpected output: container.Id: expected a container id of 12-64 hex digits, got "abc;rm -rf /"',
    );
  });

  it('reports at most three problems and counts the rest', () => {
    const err = errorOf(() => parseInspectValue([{}, {}], 'h'));
    expect(err.message).toMatch(
      /^h: unexpected output: containers\[0\]\.Id: expected a string, got nothing; .+ \(and \d+ more\)$/,
    );
  });

  it('refuses a top-level value that is not a list', () => {
    const err = errorOf(() => parseInspectText('{"message":"page not found"}', 'h'));
    expect(err.message).toBe('h: unexpected output: containers: expected a list, got a mapping');
  });
});
