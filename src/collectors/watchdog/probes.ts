import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect } from 'node:net';
import { runInGroup } from './process-group.js';

/** What one run of a check found: up or not, and a line saying why. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * One check, run once. It resolves (never rejects) and gives up when `signal` aborts: the
 * watchdog aborts it at its timeout and on stop.
 */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** Up when a TCP connection to host:port opens; closed again at once. */
export function tcpProbe(host: string, port: number): Probe {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return (signal) =>
    new Promise<ProbeResult>((resolve) => {
      const socket = connect({ host, port });
      const done = (r: ProbeResult) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(r);
      };
      const onAbort = () => done({ ok: false, message: `connect to ${target} aborted` });
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done({ ok: true, message: `connected to ${target}` }));
      socket.once('error', (err) => done({ ok: false, message: err.message }));
    });
}

/**
 * Up on a 2xx answer to GET `url`; a redirect is an answer, not followed. Each run opens a
 * fresh connection (`agent: false`): a pooled keep-alive socket would test an old
 * connection, and fail spuriously when the server has closed it.
 */
export function httpProbe(url: string): Probe {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return (signal) =>
    new Promise<ProbeResult>((resolve) => {
      const req = get(url, { agent: false, signal }, (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        req.destroy();
        const ok = status >= 200 && status < 300;
        resolve({
          ok,
          message: `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`,
        });
      });
      req.once('error', (err) => resolve({ ok: false, message: err.message }));
    });
}

/**
 * Up when the command exits 0. `argv` runs without a shell: nothing in it is reinterpreted.
 * It leads a process group of its own, killed whole when the check is cut at its timeout.
 */
export function commandProbe(argv: readonly string[]): Probe {
  const [file, ...args] = argv;
  if (file === undefined) throw new RangeError('commandProbe needs at least the program');
  return async (signal) => {
    const run = await runInGroup(file, args, signal);
    if (run.code === 0) return { ok: true, message: 'exit 0' };
    const status = run.code !== null ? `exit ${run.code}` : (run.error ?? 'killed');
    const said = lastLine(run.stderr) ?? lastLine(run.stdout);
    return { ok: false, message: said ? `${status}: ${said}` : status };
  };
}

/** The last non-empty line of a program's output, cut to 200 characters. */
export function lastLine(text: string | Buffer): string | undefined {
  const lines = text.toString().trim().split('\n');
  const last = lines[lines.length - 1]?.trim();
  if (!last) return undefined;
  return last.length > 200 ? `${last.slice(0, 197)}...` : last;
}
