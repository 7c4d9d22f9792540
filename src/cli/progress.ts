import type { Io } from './io.js';

/** What a long command reports: its step, and how far through it is when that is known. */
export interface Progress {
  /** A new step ("scanning retained configs"); the count starts again. */
  step(label: string, total?: number): void;
  /** Items done in this step. Cheap to call per item: it draws at most every `redrawMs`. */
  tick(done: number): void;
  /** Clears the line, if anything was drawn. */
  end(): void;
}

export interface ProgressOptions {
  /** Nothing is drawn before this long: a quick command shows no progress at all. */
  delayMs?: number;
  redrawMs?: number;
  now?: () => number;
  /** Redraws while nothing ticks (a wait on the broker), so the elapsed time moves. */
  heartbeat?: boolean;
}

const NONE: Progress = { step: () => undefined, tick: () => undefined, end: () => undefined };

/**
 * Progress on stderr for commands that can take more than a second (issue 20: a silent
 * command looks hung), drawn over one line and only when stderr is a terminal, so
 * redirected output and logs never get it. stdout is never touched.
 */
export function progress(io: Io, command: string, opts: ProgressOptions = {}): Progress {
  const tty = io.tty;
  if (!tty) return NONE;
  const now = opts.now ?? Date.now;
  const delayMs = opts.delayMs ?? 1000;
  const redrawMs = opts.redrawMs ?? 100;
  const started = now();
  let label = '';
  let total: number | undefined;
  let done = 0;
  let drawnAt: number | undefined;
  const draw = (force: boolean) => {
    const t = now();
    if (t - started < delayMs) return;
    if (!force && drawnAt !== undefined && t - drawnAt < redrawMs) return;
    drawnAt = t;
    const count = total !== undefined ? ` ${done}/${total}` : done > 0 ? ` ${done}` : '';
    const secs = Math.floor((t - started) / 1000);
    // \r and erase-to-end-of-line: each draw replaces the last.
    tty.write(`\r\x1b[K${command}: ${label}${count} (${secs}s)`);
  };
  const timer = opts.heartbeat ? setInterval(() => draw(true), 250) : undefined;
  timer?.unref();
  return {
    step(l, t) {
      label = l;
      total = t;
      done = 0;
      draw(true);
    },
    tick(d) {
      done = d;
      draw(false);
    },
    end() {
      if (timer) clearInterval(timer);
      if (drawnAt !== undefined) tty.write('\r\x1b[K');
      drawnAt = undefined;
    },
  };
}
