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
      `${f}: broker.mode: expected "embedded" or "external", got "embeded"`,
      `${f}: mqtt.keepalive: expected a duration such as "30s" (units ms, s, m, h, d), got 10`,
      `${f}: hosts[0].id: expected a host id of letters, digits, _ or -, got "bad id"`,
    ]);
  });

  it('check-config accepts a valid file named by OUTPOST_CONFIG', async () => {
    const f = file('node: { id: edge }\n');
    const c = io({ OUTPOST_CONFIG: f });
    expect(await main(['check-config'], c.io)).toBe(0);
    expect(c.out[0]).toBe(`${f}: OK (node edge, broker embedded, 1 host(s))`);
  });

  it('finds the command after --config: print-discovery prints, it does not start the agent', async () => {
    const f = file('node: { id: edge }\n');
    for (const argv of [
      ['--config', f, 'print-discovery'],
      ['-c', f, 'print-discovery'],
      [`--config=${f}`, 'print-discovery'],
      ['print-discovery', '--config', f],
    ]) {
      const c = io();
      expect(await main(argv, c.io), argv.join(' ')).toBe(0);
      expect(c.err).toEqual([]);
      const first = JSON.parse(c.out[0]!) as { topic: string };
      expect(first.topic).toMatch(/^homeassistant\/.+\/outpost_edge\//);
    }
    const c = io();
    expect(await main(['--config', f, 'check-config'], c.io)).toBe(0);
    expect(c.out[0]).toBe(`${f}: OK (node edge, broker embedded, 1 host(s))`);
  }, 60_000); // the first print-discovery loads the agent's modules: slow on a busy machine

  it('refuses a stray word instead of starting the agent', async () => {
    const f = file('node: { id: edge }\n');
    const c = io();
    expect(await main(['--config', f, 'print-discovry'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/^outpost: unknown command "print-discovry"/);
    const r = io();
    expect(await main(['run', '--config', f, 'print-discovery'], r.io)).toBe(2);
    expect(r.err[0]).toBe('outpost run: unexpected argument "print-discovery"');
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
    // Each command's module is imported when it is chosen (dispatch.ts), here within the
    // test: `run` brings in the whole agent, slow to transform on a busy machine.
  }, 120_000);

  it('rejects unknown commands and options with exit code 2', async () => {
    let c = io();
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(c.err[0]).toContain('unknown command "frobnicate"');
    c = io();
    expect(await main(['check-config', '--bogus'], c.io)).toBe(2);
    // The command's own usage line, not the whole help or another command's.
    expect(c.err).toEqual([
      'outpost check-config: unknown option --bogus',
      'usage: outpost check-config [FILE] [--config FILE]',
      '(outpost check-config --help for more)',
    ]);
  });

  it("answers an unknown option of every command with that command's usage line", async () => {
    for (const cmd of [
      'run',
      'events',
      'audit',
      'status',
      'discovery',
      'print-discovery',
      'doctor',
    ]) {
      const c = io();
      expect(await main([cmd, '--frobnicate'], c.io), cmd).toBe(2);
      expect(c.err[0], cmd).toBe(`outpost ${cmd}: unknown option --frobnicate`);
      expect(c.err[1], cmd).toMatch(new RegExp(`^usage: outpost ${cmd}\\b`));
      expect(c.err.at(-1), cmd).toBe(`(outpost ${cmd} --help for more)`);
    }
  });

  it('check-config names the file in a YAML syntax error too', async () => {
    const f = file('node: { id: edge\n');
    const c = io();
    expect(await main(['check-config', f], c.io)).toBe(2);
    expect(c.err[0]).toMatch(new RegExp(`^${f.replace(/[.]/g, '\\.')}: line \\d+, column \\d+: `));
  });
});
