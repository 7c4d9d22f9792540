import { describe, expect, it } from 'vitest';
import { median, ratio, summarize } from '../../bench/framework.js';
import {
  formatValue,
  parseSections,
  renderReport,
  renderSection,
  type Machine,
} from '../../bench/report.js';

/**
 * BENCHMARKS.md rewriting (test/bench/bench.ts): a filtered run replaces only the sections of
 * the benchmarks it ran. Kept here with the other docker/ and tooling checks of this folder.
 */

const machine: Machine = {
  cpu: 'Test CPU',
  cores: 2,
  memoryBytes: 4 * 2 ** 30,
  node: 'v20.0.0',
  os: 'Debian',
};
const date = new Date('2025-01-02T03:04:05Z');
const section = (name: string, value: number, command = 'npm run bench') =>
  renderSection({
    bench: { name, description: `${name} measures things.` },
    figures: [{ label: 'time | median', value, unit: 'ms', note: 'n', load: 1.234 }],
    date,
    machine,
    command,
  });
const registered = [{ name: 'alpha' }, { name: 'beta' }];

describe('bench report', () => {
  it('renders a section between its markers, with a table row per figure', () => {
    const s = section('alpha', 12.345);
    expect(s.startsWith('<!-- bench:alpha:begin -->\n## alpha\n')).toBe(true);
    expect(s.endsWith('<!-- bench:alpha:end -->')).toBe(true);
    expect(s).toContain('| time \\| median | 12.3 | ms | 1.23 | n |');
    expect(s).toContain('Measured 2025-01-02 03:04 UTC with Node v20.0.0 on Test CPU (2 cores)');
  });

  it('says how node ran the benchmarks: the launcher, with its words', () => {
    const run = (m: Machine) => {
      const s = renderSection({
        bench: { name: 'alpha', description: 'alpha measures things.' },
        figures: [{ label: 'x', value: 1, unit: 'ms' }],
        date,
        machine: m,
        command: 'npm run bench',
      });
      const md = renderReport({
        existing: '',
        registered,
        fresh: new Map([['alpha', s]]),
        machine: m,
        date,
        command: 'npm run bench',
      });
      return { s, md };
    };
    const launched = run({ ...machine, launcher: 'SOME_ENV=1 --some-flag' });
    expect(launched.s).toContain("Node v20.0.0 under the agent's launcher on Test CPU (2 cores)");
    expect(launched.md).toContain(
      "| node run as | the agent's launcher: `SOME_ENV=1 --some-flag` |",
    );
    expect(run(machine).md).not.toContain('node run as');
  });

  it('writes the machine, the date and the command in the header', () => {
    const md = renderReport({
      existing: '',
      registered,
      fresh: new Map([['alpha', section('alpha', 1)]]),
      machine,
      date,
      command: 'npm run bench',
    });
    expect(md).toContain('Last run 2025-01-02 03:04 UTC: `npm run bench`');
    expect(md).toContain('| CPU | Test CPU |');
    expect(md).toContain('| memory | 4.0 GiB |');
    expect([...parseSections(md).keys()]).toEqual(['alpha']);
  });

  it('keeps the sections of benchmarks that did not run, verbatim, in registry order', () => {
    const first = renderReport({
      existing: '',
      registered,
      fresh: new Map([
        ['beta', section('beta', 2)],
        ['alpha', section('alpha', 1)],
      ]),
      machine,
      date,
      command: 'npm run bench',
    });
    const second = renderReport({
      existing: first,
      registered,
      fresh: new Map([['beta', section('beta', 3, 'npm run bench -- beta')]]),
      machine,
      date,
      command: 'npm run bench -- beta',
    });
    const sections = parseSections(second);
    expect([...sections.keys()]).toEqual(['alpha', 'beta']);
    expect(sections.get('alpha')).toBe(parseSections(first).get('alpha'));
    expect(sections.get('beta')).toContain('| 3 | ms | 1.23 |');
    expect(sections.get('beta')).toContain('`npm run bench -- beta`');
  });

  it('drops sections of benchmarks no longer registered', () => {
    const old = renderReport({
      existing: '',
      registered: [{ name: 'gone' }],
      fresh: new Map([['gone', section('gone', 1)]]),
      machine,
      date,
      command: 'npm run bench',
    });
    const md = renderReport({
      existing: old,
      registered,
      fresh: new Map(),
      machine,
      date,
      command: 'npm run bench',
    });
    expect(parseSections(md).size).toBe(0);
  });

  it('formats integers as they are and fractions to 3 significant digits', () => {
    expect(formatValue(512)).toBe('512');
    expect(formatValue(511.6)).toBe('512');
    expect(formatValue(93.34)).toBe('93.3');
    expect(formatValue(6.554)).toBe('6.55');
    expect(formatValue('pass')).toBe('pass');
  });
});

describe('bench statistics', () => {
  it('takes the median, the middle pair averaged for an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(ratio(3, 2)).toBe(1.5);
  });
});
