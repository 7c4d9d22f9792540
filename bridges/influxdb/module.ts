import type { CapabilityModule } from '../../src/capabilities/capability.js';
import type { Component } from '../../src/core/lifecycle.js';
import { REFUSED_EVENT, refusalAlert } from './refusal-alert.js';

/**
 * InfluxDB history (issue 19): every event and a sample of the agent's states every
 * interval, written from the event store through the sink's own cursor. Needs the event
 * store; without one (it failed to open) the bridge says so and stays off.
 */
export const influxdbModule: CapabilityModule = {
  name: 'influxdb',
  events: [REFUSED_EVENT],
  async create(ctx) {
    const section = ctx.config.influxdb;
    if (!section) return undefined;
    const log = ctx.log.child({ capability: 'influxdb' });
    if (!ctx.store || !ctx.record) {
      log.warn('InfluxDB history off: the event store is unavailable');
      return undefined;
    }
    // The `influx` client and the sink only with the section (~1.5 MiB of heap otherwise).
    const [{ influxClient, lineWriter }, { InfluxSink }, { StateSampler }] = await Promise.all([
      import('./client.js'),
      import('./influx-sink.js'),
      import('./sampler.js'),
    ]);
    const influx = influxClient(section);
    const sink = new InfluxSink({
      store: ctx.store,
      write: lineWriter(section),
      createDatabase: () => influx.createDatabase(section.database),
      options: {
        precision: 'n',
        database: section.database,
        ...(section.retention_policy ? { retentionPolicy: section.retention_policy } : {}),
      },
      batchSize: section.batch_size,
      flushMs: section.flush_interval,
      retry: { initialMs: section.retry_min, maxMs: section.retry_max },
      clock: ctx.clock,
      log,
      onRefused: refusalAlert((e) => ctx.bus.emit('event', e), ctx.clock),
    });
    const components: Component[] = [sink];
    if (section.sample_interval > 0) {
      const states = ctx.states;
      components.push(
        new StateSampler({
          root: ctx.root,
          hostIds: ctx.config.hosts.map((h) => h.id),
          states: () => states.current(),
          record: ctx.record,
          intervalMs: section.sample_interval,
          clock: ctx.clock,
        }),
      );
    }
    return {
      name: 'influxdb',
      components,
      health: { path: 'influxdb', report: () => sink.report() },
    };
  },
};
