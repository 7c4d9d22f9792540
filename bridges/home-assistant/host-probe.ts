import { connect } from 'node:net';

/**
 * Whether Home Assistant's host answers (issue 18, point 2: a dead websocket matters
 * "while the HA host is up"): a TCP connect to its port that is accepted, or refused at
 * once (the host is there, nothing listens), means yes; a timeout or an unreachable
 * network means the host itself is gone, which is the watchdog's and the host monitor's
 * news, not Home Assistant's.
 */
export function hostAnswers(url: string, timeoutMs: number): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}
