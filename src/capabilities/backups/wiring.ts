import { join } from 'node:path';
import type { Config, HostConfig } from '../../config/schema.js';
import type { Component } from '../../core/lifecycle.js';
import { StateFile } from '../../core/state-file.js';
import { topics } from '../../core/topics.js';
import type { SshSession } from '../../hosts/ssh-pool.js';
import type { CapabilityContext } from '../capability.js';
import type { BackupJobConfig, BackupsSection } from './config.js';
import { RunBackupExecutor } from './executor.js';
import { HttpPings } from './http-pings.js';
import { localHost, sshHost, type HostDeps } from './job-hosts.js';
import { BACKUPS_FILE, backupsFileSchema } from './job-record.js';
import { JobRunner, type JobHost } from './job-runner.js';
import { MqttReports } from './mqtt-reports.js';
import { localProbe, remoteProbe, type Probe } from './probe.js';
import { ReportIntake } from './reports.js';
import { Scheduler, type ScheduledJob } from './scheduler.js';
import { BackupTracker, type JobState } from './tracker.js';
import { Watchman, type WatchedPath } from './watchman.js';
import { kindOf } from './placement.js';

export { kindOf, placedJobs } from './placement.js';

/** The SSH host a job runs on, or undefined when it runs on the agent's machine. */
function sshOf(config: Config, j: BackupJobConfig) {
  const h = config.hosts.find((x) => x.id === j.host);
  return h?.ssh ? (h as HostConfig & { ssh: NonNullable<HostConfig['ssh']> }) : undefined;
}

/**
 * Backups, wired (issue #17): the tracker and its file, a runner per job with a command,
 * the schedules, the dead-man's switch with the passive paths, reports over MQTT and HTTP,
 * and `run_backup`.
 */
export class BackupJobs {
  readonly tracker: BackupTracker;
  readonly components: Component[] = [];
  readonly executor: RunBackupExecutor;
  readonly pings: HttpPings;

  constructor(ctx: CapabilityContext, section: BackupsSection) {
    const { config, clock } = ctx;
    const log = ctx.log.child({ component: 'backups' });
    this.tracker = new BackupTracker({
      jobs: section.jobs.map((j) => ({
        name: j.name,
        host: j.host,
        kind: kindOf(j),
        maxAgeMs: j.max_age,
      })),
      incidents: ctx.incidents,
      clock,
      file: new StateFile(join(config.data_dir, BACKUPS_FILE), backupsFileSchema, log),
      onEvent: (e) => ctx.bus.emit('event', e),
      onState: (job, s) => void ctx.states.set(topics.backup(ctx.root, job), s),
    });
    const deps: HostDeps = { clock, log, tailBytes: section.tail };
    const local = localHost(deps);
    const runners = new Map<string, JobRunner>();
    const scheduled: ScheduledJob[] = [];
    const watched: WatchedPath[] = [];
    const watchConnections = new Map<string, SshSession>();
    for (const j of section.jobs) {
      const ssh = sshOf(config, j);
      if (j.command) {
        const host: JobHost = ssh
          ? sshHost(ssh.id, (onStatus) => ctx.ssh.lease(ssh.id, onStatus), deps)
          : local;
        const runner = new JobRunner({ job: j, host, tracker: this.tracker, clock, log });
        runners.set(j.name, runner);
        if (j.schedule) scheduled.push({ job: { ...j, schedule: j.schedule }, runner });
      } else if (j.watch_path !== undefined) {
        let probe: Probe = localProbe;
        if (ssh) {
          // One lease of the host's shared connection for every look at its paths.
          let conn = watchConnections.get(ssh.id);
          if (!conn) {
            conn = ctx.ssh.lease(ssh.id);
            watchConnections.set(ssh.id, conn);
          }
          probe = remoteProbe(conn);
        }
        watched.push({ job: j.name, path: j.watch_path, probe });
      }
    }
    for (const [id, conn] of watchConnections) {
      this.components.push({
        name: `backups-ssh:${id}`,
        start: () => conn.start(),
        stop: () => conn.stop(),
      });
    }
    const runnerList = [...runners.values()];
    this.components.push({
      name: 'backups-runners',
      // Every job's state from the start, `never_run` included: HA shows no unknowns.
      start: () => {
        for (const st of this.tracker.states())
          void ctx.states.set(topics.backup(ctx.root, st.job), st);
        return Promise.resolve();
      },
      stop: async () => {
        await Promise.all(runnerList.map((r) => r.stop()));
      },
    });
    this.components.push(
      new Watchman({
        tracker: this.tracker,
        watched,
        everyMs: section.check_every,
        timeoutMs: 30_000,
        clock,
        log,
      }),
    );
    this.components.push(new Scheduler({ jobs: scheduled, tracker: this.tracker, clock, log }));
    const intake = new ReportIntake({ tracker: this.tracker, clock, log });
    if (ctx.messages && ctx.mqtt) {
      this.components.push(
        new MqttReports({
          source: ctx.messages,
          mqtt: ctx.mqtt,
          root: ctx.root,
          intake,
          log,
          anonymous: ctx.config.remediation.anonymous_commands,
        }),
      );
    }
    this.pings = new HttpPings({ intake, token: section.ping_token, log });
    const others = section.jobs.filter((j) => !j.command).map((j) => j.name);
    this.executor = new RunBackupExecutor(runners, others);
  }

  /** `GET /api/health/backups`: every job's state. */
  report(): JobState[] {
    return this.tracker.states();
  }
}
