import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets, scrubUrlCredentials } from '../../../src/core/logger.js';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, dest };
}

describe('logger secret hygiene', () => {
  it('never writes a configured secret, whatever field or message holds it', () => {
    const { lines, dest } = capture();
    const log = createLogger({
      level: 'trace',
      secrets: ['s3cr3t-pw', 'tok"en-42'],
      destination: dest,
      pretty: false,
    });
    log.info({ password: 's3cr3t-pw' }, 'plain field');
    log.info({ nested: { deep: { token: 'tok"en-42' } } }, 'nested field');
    log.warn({ detail: 'the password is s3cr3t-pw' }, 'in a value');
    log.error('in the message: s3cr3t-pw and tok"en-42');
    log.error({ err: new Error('connect failed for s3cr3t-pw') }, 'in an error');
    const all = lines.join('');
    expect(lines).toHaveLength(5);
    expect(all).not.toContain('s3cr3t-pw');
    expect(all).not.toContain('tok"en-42');
    expect(all).not.toContain('tok\\"en-42');
    expect(all).toContain('[redacted]');
  });

  it('scrubs secret-looking keys and URL credentials without knowing the value', () => {
    expect(scrubSecrets({ a: 1, passphrase: 'x', apiToken: 'y', list: [{ secret: 'z' }] })).toEqual(
      {
        a: 1,
        passphrase: '[redacted]',
        apiToken: '[redacted]',
        list: [{ secret: '[redacted]' }],
      },
    );
    expect(scrubUrlCredentials('mqtts://ops:hunter2@broker:8883/x')).toBe(
      'mqtts://ops:[redacted]@broker:8883/x',
    );
  });
});
