import { statSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoveryMessages } from '../../discovery/agent-model.js';
import type { Config } from '../config/schema.js';
import { systemClock } from '../core/clock.js';
import { errorMessage, type OutpostError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { ONLINE, topics } from '../core/topics.js';
import { SshConnection, sshTarget } from '../hosts/ssh-connection.js';
import { topicRoot } from '../mqtt/link-options.js';
import { EVENTS_DB_FILE, SqliteEventStore } from '../store/sqlite-store.js';
import { diagnoseDir } from '../store/sqlite-failure.js';
import { configuredEntities } from '../main.js';

/** One finding of `outpost doctor`: what was checked, how it went, and what to do. */
export interface Finding {
  check: string;
  verdict: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const ok = (check: string, detail: string): Finding => ({ check, verdict: 'ok', detail });
const warn = (check: string, detail: string, fix: string): Finding => ({
  check,
  verdict: 'warn',
  detail,
  fix,
});
const fail = (check: string, detail: string, fix: string): Finding => ({
  check,
  verdict: 'fail',
  detail,
  fix,
});

/** What the broker holds retained for this node, read once by the caller. */
export interface RetainedView {
  availability: string | undefined;
  haStatus: string | undefined;
  configTopics: readonly string[];
}

/** The agent's retained availability: "online" only while it runs against this broker. */
export function checkAgent(config: Config, seen: RetainedView): Finding {
  const topic = topics.availability(topicRoot(config));
  if (seen.availability === ONLINE) return ok('agent', `${topic} is online`);
  if (seen.availability === undefined) {
    return fail(
      'agent',
      `nothing is retained on ${topic}`,
      'start the agent with this config (systemctl start outpost, docker compose up -d); ' +
        'if it runs, its node.id and mqtt.base_topic differ from this config',
    );
  }
  return fail(
    'agent',
    `${topic} is ${JSON.stringify(seen.availability)}`,
    'the agent stopped or lost the broker: see `journalctl -u outpost` or `docker compose logs outpost`',
  );
}

/**
 * Home Assistant's birth / last will on `<prefix>/status`. HA sends its birth unretained by
 * default, so its absence is a warning, while a retained "offline" (its last will) is not.
 */
export function checkHomeAssistant(config: Config, seen: RetainedView): Finding {
  const topic = topics.haStatus(config.mqtt.discovery_prefix);
  if (seen.haStatus === ONLINE) return ok('home assistant', `${topic} is online (its birth)`);
  if (seen.haStatus === undefined) {
    return warn(
      'home assistant',
      `no retained birth message on ${topic}`,
      "check that HA's MQTT integration uses this broker and discovery prefix " +
        `"${config.mqtt.discovery_prefix}" (HA sends its birth unretained unless told to retain it)`,
    );
  }
  return fail(
    'home assistant',
    `${topic} is ${JSON.stringify(seen.haStatus)} (Home Assistant's last will)`,
    'Home Assistant is down or lost this broker: check its MQTT integration',
  );
}

/** Every config this node's config alone produces must be retained (the observed ones come on top). */
export function checkDiscovery(config: Config, seen: RetainedView): Finding {
  const expected = discoveryMessages(config, configuredEntities(config)).map((m) => m.topic);
  const retained = new Set(seen.configTopics);
  const missing = expected.filter((t) => !retained.has(t));
  if (missing.length === 0) {
    return ok('discovery', `${seen.configTopics.length} configs retained for this node`);
  }
  return fail(
    'discovery',
    `${missing.length} of the ${expected.length} configs this config produces are not retained ` +
      `(${missing[0]}${missing.length > 1 ? ', …' : ''})`,
    'the agent publishes them once connected: is it running with this config, and may its ' +
      `broker user publish under "${config.mqtt.discovery_prefix}/"?`,
  );
}

/** The data dir takes writes and the event store is there and readable. */
export async function checkStore(config: Config): Promise<Finding> {
  const dir = config.data_dir;
  if (!existsSync(dir)) {
    return fail('store', `no data dir at ${dir}`, 'has the agent run with this config (data_dir)?');
  }
  const cause = diagnoseDir(dir);
  if (cause) {
    const fix =
      cause.reason === 'disk_full'
        ? 'free space on that file system; events wait in memory meanwhile'
        : `make ${dir} writable by the agent's user (chown, or a read-write mount)`;
    return fail('store', cause.text, fix);
  }
  const db = join(dir, EVENTS_DB_FILE);
  if (!existsSync(db)) {
    return fail('store', `no event store at ${db}`, 'has the agent run with this config?');
  }
  try {
    const store = SqliteEventStore.open({ dataDir: dir, node: config.node.id, readonly: true });
    try {
      const stats = await store.stats();
      return ok('store', `${dir} is writable; ${db}: ${stats.count} events`);
    } finally {
      await store.close();
    }
  } catch (err) {
    return fail('store', `${db}: ${errorMessage(err)}`, 'see the agent log for the store');
  }
}

/** Each SSH host answers, offers the pinned key and takes the configured login. */
export async function checkSshHosts(config: Config, timeoutMs = 10_000): Promise<Finding[]> {
  const hosts = config.hosts.flatMap((h, i) => (h.ssh ? [{ h, i, ssh: h.ssh }] : []));
  return Promise.all(
    hosts.map(async ({ h, i, ssh }): Promise<Finding> => {
      const name = `ssh ${h.id}`;
      const conn = new SshConnection({
        name: h.id,
        target: sshTarget(ssh),
        clock: systemClock,
        log: silentLogger(),
        readyTimeoutMs: timeoutMs,
      });
      try {
        await conn.start();
        if (conn.connected) {
          return ok(name, `${ssh.user}@${ssh.host}:${ssh.port}: logged in, host key as pinned`);
        }
        const err = conn.lastError;
        return fail(name, err?.message ?? 'not connected', sshFix(err, i));
      } finally {
        await conn.stop();
      }
    }),
  );
}

function sshFix(err: OutpostError | undefined, i: number): string {
  const at = `hosts[${i}].ssh`;
  if (err?.code === 'SSH_HOST_KEY') {
    return `if the host was reinstalled, pin the key it offers now in ${at}.host_key (ssh-keygen -lf)`;
  }
  if (err && /auth/i.test(err.message)) return `check ${at}.user and ${at}.key_file`;
  return `is sshd running and reachable at ${at}.host:${at}.port?`;
}

/** How far a clock may be off before the doctor says so. */
const CLOCK_SLACK_MS = 5 * 60_000;

/**
 * A clock that is wrong makes every timestamp and duration wrong: one behind the time this
 * build was made (a board without a real-time clock, before NTP), one a file system on
 * another machine disagrees with (an NFS data dir), or one behind the newest stored event.
 */
export async function checkClock(config: Config, now = Date.now()): Promise<Finding> {
  const built = statSync(fileURLToPath(import.meta.url)).mtimeMs;
  const ntp = 'turn on time sync (timedatectl set-ntp true, or chrony/ntpd)';
  if (now < built - CLOCK_SLACK_MS) {
    return fail('clock', `${iso(now)} is before this build of outpost (${iso(built)})`, ntp);
  }
  if (existsSync(config.data_dir)) {
    const probe = join(config.data_dir, `.doctor-clock-${process.pid}`);
    try {
      writeFileSync(probe, '');
      const skew = statSync(probe).mtimeMs - Date.now();
      if (Math.abs(skew) > CLOCK_SLACK_MS) {
        return fail(
          'clock',
          `the file system of ${config.data_dir} is ${Math.round(skew / 1000)} s off this clock`,
          `${ntp} on both machines`,
        );
      }
    } catch {
      // an unwritable data dir is the store check's finding
    } finally {
      try {
        unlinkSync(probe);
      } catch {
        // never created
      }
    }
    const newest = await newestEvent(config);
    if (newest !== undefined && newest > now + CLOCK_SLACK_MS) {
      return fail(
        'clock',
        `the newest stored event is from ${iso(newest)}, ahead of ${iso(now)}`,
        ntp,
      );
    }
  }
  return ok('clock', `${iso(now)}, after this build and in step with ${config.data_dir}`);
}

async function newestEvent(config: Config): Promise<number | undefined> {
  if (!existsSync(join(config.data_dir, EVENTS_DB_FILE))) return undefined;
  try {
    const store = SqliteEventStore.open({
      dataDir: config.data_dir,
      node: config.node.id,
      readonly: true,
    });
    try {
      const [e] = await store.query({ order: 'desc', limit: 1 });
      return e ? Date.parse(e.ts) : undefined;
    } finally {
      await store.close();
    }
  } catch {
    return undefined;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
