import { describe, expect, it } from 'vitest';
import type { Io } from '../../../src/cli/io.js';
import { progress } from '../../../src/cli/progress.js';

function io(tty: boolean) {
  const drawn: string[] = [];
  const lines: string[] = [];
  const value: Io = {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    env: {},
    ...(tty ? { tty: { write: (t: string) => drawn.push(t) } } : {}),
  };
  return { io: value, drawn, lines };
}

describe('progress', () => {
  it('draws nothing when stderr is not a terminal, however long it takes', () => {
    const c = io(false);
    let t = 0;
    const p = progress(c.io, 'events', { now: () => t });
    p.step('printing', 10);
    t = 60_000;
    p.tick(5);
    p.end();
    expect(c.drawn).toEqual([]);
    expect(c.lines).toEqual([]);
  });

  it('stays quiet for the first second, then draws over one line and clears it at the end', () => {
    const c = io(true);
    let t = 0;
    const p = progress(c.io, 'events', { now: () => t });
    p.step('printing', 3000);
    p.tick(100);
    t = 999;
    p.tick(900);
    expect(c.drawn).toEqual([]);
    t = 1000;
    p.tick(1000);
    t = 1050; // within the redraw interval: not drawn again
    p.tick(1500);
    t = 2100;
    p.tick(2000);
    p.step('done');
    p.end();
    expect(c.drawn).toEqual([
      '\r\x1b[Kevents: printing 1000/3000 (1s)',
      '\r\x1b[Kevents: printing 2000/3000 (2s)',
      '\r\x1b[Kevents: done (2s)',
      '\r\x1b[K',
    ]);
    expect(c.lines).toEqual([]);
  });

  it('leaves the line alone at the end of a command that was quick', () => {
    const c = io(true);
    const p = progress(c.io, 'events', { now: () => 0 });
    p.step('printing', 1);
    p.tick(1);
    p.end();
    expect(c.drawn).toEqual([]);
  });
});
