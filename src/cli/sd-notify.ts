import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * systemd's notification protocol (sd_notify(3)) for `Type=notify` units: READY=1 once the
 * agent runs, WATCHDOG=1 from the event loop at half of WATCHDOG_USEC so that a hung loop
 * stops the pets and systemd restarts the agent (WatchdogSec=), STOPPING=1 on shutdown and
 * STATUS= lines for `systemctl status`.
 *
 * Node has no unix datagram sockets, and the protocol is one datagram to $NOTIFY_SOCKET;
 * unix-dgram is a small native binding that sends one. It is loaded only under systemd
 * (NOTIFY_SOCKET set), so no other run pays for it. Spawning `systemd-notify` instead would
 * cost a process per pet and needs NotifyAccess=all, since the sender would not be the
 * main PID.
 */
export interface SystemdNotifier {
  ready(status: string): void;
  status(status: string): void;
  stopping(status: string): void;
  /** Stops the watchdog pets and closes the socket. */
  close(): void;
}

/** The variables sd_notify(3) reads; removed from `env` so no child inherits them. */
const VARS = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

/**
 * The notifier for this process, or undefined when systemd did not ask for notifications
 * (no NOTIFY_SOCKET) or the socket cannot be used: the agent runs on either way, and a
 * unit that expected READY=1 then fails to start with systemd saying why.
 */
export async function systemdNotifier(
  env: NodeJS.ProcessEnv,
  log: Logger,
  pid = process.pid,
): Promise<SystemdNotifier | undefined> {
  const { NOTIFY_SOCKET: path, WATCHDOG_USEC: usec, WATCHDOG_PID: watchdogPid } = env;
  for (const name of VARS) delete env[name];
  if (path === undefined || path === '') return undefined;
  if (!path.startsWith('/')) {
    // '@name' is the abstract namespace, 'vsock:' a VM's host: unix-dgram binds neither.
    log.warn({ NOTIFY_SOCKET: path }, 'NOTIFY_SOCKET: expected an absolute path; not notifying');
    return undefined;
  }
  let socket;
  try {
    const { createSocket } = (await import('unix-dgram')).default;
    socket = createSocket('unix_dgram');
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'cannot notify systemd (unix-dgram)');
    return undefined;
  }
  // A refused send (systemd gone, socket full) is logged once: the agent's work goes on.
  let warned = false;
  socket.on('error', (err: Error) => {
    if (!warned) log.warn({ err: errorMessage(err), NOTIFY_SOCKET: path }, 'sd_notify failed');
    warned = true;
  });
  const send = (text: string) => {
    const buf = Buffer.from(text);
    socket.send(buf, 0, buf.length, path);
  };
  const interval = watchdogInterval(usec, watchdogPid, pid, log);
  // A timer, so it fires only while the loop turns: a loop that hangs stops the pets.
  const pets = interval === undefined ? undefined : setInterval(() => send('WATCHDOG=1'), interval);
  pets?.unref();
  if (pets) send('WATCHDOG=1');
  let closed = false;
  const line = (s: string) => s.replace(/\n/g, ' ');
  return {
    ready: (status) => send(`READY=1\nSTATUS=${line(status)}`),
    status: (status) => send(`STATUS=${line(status)}`),
    stopping: (status) => send(`STOPPING=1\nSTATUS=${line(status)}`),
    close() {
      if (closed) return;
      closed = true;
      if (pets) clearInterval(pets);
      socket.close();
    },
  };
}

/**
 * Half of WATCHDOG_USEC in ms (sd_watchdog_enabled(3) advises pets at half the timeout),
 * or undefined when systemd set no watchdog or set it for another process.
 */
export function watchdogInterval(
  usec: string | undefined,
  watchdogPid: string | undefined,
  pid: number,
  log: Logger,
): number | undefined {
  if (usec === undefined || usec === '') return undefined;
  if (watchdogPid !== undefined && watchdogPid !== '' && watchdogPid !== String(pid)) {
    return undefined;
  }
  const n = /^\d+$/.test(usec) ? Number(usec) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    log.warn({ WATCHDOG_USEC: usec }, 'WATCHDOG_USEC: expected a positive whole number of µs');
    return undefined;
  }
  return Math.max(1, Math.floor(n / 2000));
}
