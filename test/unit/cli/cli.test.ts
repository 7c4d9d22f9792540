import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/dispatch.js';
import { VERSION } from '../../../src/core/version.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env },
  };
}

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-cli-'));
  const f = join(dir, 'config.yaml');
  writeFileSync(f, text);
  return f;
}

describe('outpost CLI', () => {
  it('check-config prints one line per mistake and exits 2', async () => {
    const f = file(
      'broker: { mode: embeded }\nmqtt: { keepalive: 10 }\nhosts: [{ id: "bad id" }]\n',
    );
    const c = io();
    expect(await main(['check-config', f], c.io)).toBe(2);
    expect(c.err).toEqual([
      'broker.mode: expected "embedded" or "external", got "embeded"',
      'mqtt.keepalive: expected a duration such as "30s" (units ms, s, m, h, d), got 10',
      'hosts[0].id: expected a host id of letters, digits, _ or -, got "bad id"',
    ]);
  });

  it('check-config accepts a valid file named by OUTPOST_CONFIG', async () => {
    const f = file('node: { id: edge }\n');
    const c = io({ OUTPOST_CONFIG: f });
    expect(await main(['check-config'], c.io)).toBe(0);
    expect(c.out[0]).toBe(`${f}: OK (node edge, broker embedded, 1 host(s))`);
  });

  it('check-config reports a missing file', async () => {
    const c = io();
    expect(await main(['check-config', '/nonexistent/outpost.yaml'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/^\/nonexistent\/outpost\.yaml: cannot read the config file: ENOENT/);
  });

  it('prints the version, general help and per-command help', async () => {
    let c = io();
    expect(await main(['--version'], c.io)).toBe(0);
    expect(c.out).toEqual([VERSION]);
    c = io();
    expect(await main(['--help'], c.io)).toBe(0);
    expect(c.out[0]).toContain('print-discovery');
    for (const cmd of ['run', 'check-config', 'print-discovery', 'status']) {
      c = io();
      expect(await main([cmd, '--help'], c.io)).toBe(0);
      expect(c.out[0]).toMatch(new RegExp(`^usage: outpost ${cmd}`));
    }
  });

  it('rejects unknown commands and options with exit code 2', async () => {
    let c = io();
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(c.err[0]).toContain('unknown command "frobnicate"');
    c = io();
    expect(await main(['check-config', '--bogus'], c.io)).toBe(2);
    expect(c.err[0]).toContain("Unknown option '--bogus'");
  });
});
