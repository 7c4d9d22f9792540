import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fingerprint,
  hostKeyAlgorithms,
  keyType,
  knownHostKeys,
  knownHostsName,
} from '../../../src/hosts/known-hosts.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

describe('host key pinning helpers', () => {
  let dir: string;
  let pubLine: string;
  let blob: Buffer;
  let otherBlob: Buffer;

  const keygen = (name: string) => {
    const file = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    const line = readFileSync(`${file}.pub`, 'utf8').trim();
    return { file, line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
  };

  beforeAll(async () => {
    dir = await makeTempDir('known-hosts');
    const a = keygen('a');
    pubLine = a.line;
    blob = a.blob;
    otherBlob = keygen('b').blob;
    // ssh-keygen's own fingerprint is the reference
    const printed = execFileSync('ssh-keygen', ['-lf', `${a.file}.pub`])
      .toString()
      .split(' ')[1];
    expect(fingerprint(blob)).toBe(printed);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('prints the fingerprint like ssh-keygen -lf and reads the key type from the blob', () => {
    expect(fingerprint(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(keyType(blob)).toBe('ssh-ed25519');
    expect(keyType(Buffer.from([0, 0]))).toBe('unknown');
  });

  it('names hosts the way known_hosts does', () => {
    expect(knownHostsName('nas', 22)).toBe('nas');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('finds keys by plain name, [host]:port, comma lists and wildcards', () => {
    const key = pubLine.split(' ').slice(0, 2).join(' ');
    const text = [
      '# comment',
      '',
      `nas,192.0.2.16 ${key}`,
      `[127.0.0.1]:2222 ${key} some comment`,
      `*.lan ${key}`,
    ].join('\n');
    expect(knownHostKeys(text, 'nas', 22).keys).toHaveLength(1);
    expect(knownHostKeys(text, '192.0.2.16', 22).keys).toHaveLength(1);
    expect(knownHostKeys(text, '127.0.0.1', 2222).keys[0]!.blob.equals(blob)).toBe(true);
    expect(knownHostKeys(text, '127.0.0.1', 22).keys).toHaveLength(0);
    expect(knownHostKeys(text, 'box.lan', 22).keys).toHaveLength(1);
    expect(knownHostKeys(text, 'other', 22).keys).toHaveLength(0);
  });

  it('matches hashed names (ssh-keygen -H) and honours negation', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[10.0.0.5]:2200').digest('base64');
    const key = pubLine.split(' ').slice(0, 2).join(' ');
    const text = `|1|${salt.toString('base64')}|${hash} ${key}\n*,!evil ${key}`;
    expect(knownHostKeys(text, '10.0.0.5', 2200).keys).toHaveLength(2);
    expect(knownHostKeys(text, '10.0.0.6', 2200).keys).toHaveLength(1);
    expect(knownHostKeys(text, 'evil', 22).keys).toHaveLength(0);
  });

  it('collects @revoked keys and skips @cert-authority lines', () => {
    const key = pubLine.split(' ').slice(0, 2).join(' ');
    const other = `ssh-ed25519 ${otherBlob.toString('base64')}`;
    const text = `@revoked * ${other}\n@cert-authority *.lan ${key}\nnas ${key}`;
    const m = knownHostKeys(text, 'nas', 22);
    expect(m.revoked.map((b) => b.equals(otherBlob))).toEqual([true]);
    expect(m.keys).toHaveLength(1);
    expect(knownHostKeys(text, 'x.lan', 22).keys).toHaveLength(0);
  });

  it('ignores a line whose declared type does not match its key', () => {
    const text = `nas ssh-rsa ${blob.toString('base64')}`;
    expect(knownHostKeys(text, 'nas', 22).keys).toHaveLength(0);
  });

  it('offers only the algorithms of pinned key types', () => {
    expect(hostKeyAlgorithms(['ssh-ed25519'])).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithms(['ssh-rsa', 'ssh-ed25519'])).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
  });
});
