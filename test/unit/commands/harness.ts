import { afterEach, beforeEach } from 'vitest';
import type { ActionStore } from '../../../src/commands/action-store.js';
import { MemoryActionStore } from '../../../src/commands/action-store.js';
import type { ExecAction } from '../../../src/commands/command.js';
import type {
  ExecutionRequest,
  ExecutionResult,
  Executor,
} from '../../../src/commands/executors/types.js';
import { Remediation } from '../../../src/commands/remediation.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { ManualClock, type Clock } from '../../../src/core/clock.js';
import { OutpostError } from '../../../src/core/errors.js';
import type { NewEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { topics, type TopicRoot } from '../../../src/core/topics.js';
import type {
  IncomingMessage,
  MessageHandler,
  MqttPublisher,
  PublishOptions,
} from '../../../src/mqtt/types.js';
import { readAudit } from '../../helpers/audit-file.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';
import type { Incidents } from '../../../src/state/incidents.js';
import type { AgentBus } from '../../../src/state/bus-events.js';

export const ROOT: TopicRoot = { base: 'outpost', node: 'n1' };

/** Records what would go on the wire; a test double for the MQTT side, not for our logic. */
export class Wire implements MqttPublisher {
  readonly sent: { topic: string; payload: string; opts: PublishOptions | undefined }[] = [];
  readonly handlers = new Map<string, MessageHandler>();
  readonly connected = true;

  publish(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<void> {
    this.sent.push({ topic, payload: payload.toString(), opts });
    return Promise.resolve();
  }

  subscribe(filter: string, handler: MessageHandler): () => void {
    this.handlers.set(filter, handler);
    return () => this.handlers.delete(filter);
  }

  onConnect(): () => void {
    return () => undefined;
  }

  /** The last retained payload on a topic ('' when cleared), undefined if never published. */
  retained(topic: string): string | undefined {
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const m = this.sent[i]!;
      if (m.topic === topic && m.opts?.retain) return m.payload;
    }
    return undefined;
  }

  retainedJson<T = Record<string, unknown>>(topic: string): T | undefined {
    const p = this.retained(topic);
    return p ? (JSON.parse(p) as T) : undefined;
  }

  on(topic: string): string[] {
    return this.sent.filter((m) => m.topic === topic).map((m) => m.payload);
  }
}

/** An executor that records what it was asked to run; its outcome is set by the test. */
export class RecordingExecutor implements Executor {
  readonly name = 'recording';
  readonly available = true;
  readonly actions: readonly ExecAction[] = [
    'restart_container',
    'start_container',
    'stop_container',
  ];
  readonly runs: ExecutionRequest[] = [];
  outcome: (req: ExecutionRequest) => Promise<ExecutionResult> = (req) =>
    Promise.resolve({ ok: true, message: `${req.target} done` });

  validate(): undefined {
    return undefined;
  }

  run(req: ExecutionRequest): Promise<ExecutionResult> {
    this.runs.push(req);
    return this.outcome(req);
  }
}

/** A config as a user writes it (with defaults), rooted in `dir`. */
export function configWith(dir: string, input: Record<string, unknown> = {}): Config {
  const text = JSON.stringify({
    node: { id: ROOT.node },
    data_dir: dir,
    hosts: [{ id: 'local', engine: { socket: '/nonexistent.sock' } }, { id: 'nas' }],
    ...input,
  });
  return parseConfig(text, { env: {} }).config;
}

export interface Built {
  rem: Remediation;
  wire: Wire;
  events: NewEvent[];
  exec: RecordingExecutor;
  store: ActionStore;
  config: Config;
}

export async function build(opts: {
  dir: string;
  clock: Clock;
  config?: Record<string, unknown>;
  store?: ActionStore;
  exec?: RecordingExecutor;
  wire?: Wire;
  executors?: Executor[];
  incidents?: Incidents;
  /** The agent's bus, for a test that listens on it. */
  bus?: AgentBus;
}): Promise<Built> {
  const config = configWith(opts.dir, opts.config);
  const wire = opts.wire ?? new Wire();
  const events: NewEvent[] = [];
  const exec = opts.exec ?? new RecordingExecutor();
  const store = opts.store ?? new MemoryActionStore();
  const rem = await Remediation.create({
    config,
    root: ROOT,
    mqtt: wire,
    clock: opts.clock,
    log: silentLogger(),
    record: (e) => events.push(e),
    executors: opts.executors ?? [exec],
    store,
    random: () => 0.5,
    ...(opts.incidents ? { incidents: opts.incidents } : {}),
    ...(opts.bus ? { bus: opts.bus } : {}),
  });
  return { rem, wire, events, exec, store, config };
}

/** A command message as the broker would hand it to the router. */
export function message(
  action: string,
  payload: unknown,
  extra: Partial<IncomingMessage> = {},
): IncomingMessage {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return { topic: `outpost/n1/cmd/${action}`, payload: Buffer.from(body), retain: false, ...extra };
}

/**
 * One in-process remediation per test: a temp data dir and a ManualClock at `start`
 * before each test, everything stopped and removed after. `b` is the running one.
 */
export function remediationSession(tmpPrefix: string, startMs: number) {
  const s = {
    dir: '',
    clock: new ManualClock(startMs),
    b: undefined as Built | undefined,
    start: async (
      config: Record<string, unknown> = {},
      store: ActionStore = new MemoryActionStore(),
      incidents?: Incidents,
    ): Promise<Built> => {
      const b = await build({ dir: s.dir, clock: s.clock, config, store, incidents });
      s.b = b;
      await b.rem.start();
      return b;
    },
    send: (action: string, payload: unknown, extra: Partial<IncomingMessage> = {}) =>
      s.b!.rem.router.handle(message(action, payload, extra)),
    audit: () => readAudit(s.dir),
    action: (id: string) => s.b!.wire.retainedJson<ActionRecord>(topics.action(ROOT, id)),
  };
  beforeEach(async () => {
    s.dir = await makeTempDir(tmpPrefix);
    s.clock = new ManualClock(startMs);
  });
  afterEach(async () => {
    await s.b?.rem.stop();
    s.b = undefined;
    await removeTempDir(s.dir);
  });
  return s;
}

/** An action store whose writes fail, while `full`, as FileActionStore's do on ENOSPC. */
export class FullDiskStore extends MemoryActionStore {
  full = false;

  override put(record: ActionRecord): Promise<void> {
    if (!this.full) return super.put(record);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    });
    const msg = `action store: cannot write /data/actions.jsonl: ${enospc.message}`;
    return Promise.reject(new OutpostError('INTERNAL', msg, { cause: enospc }));
  }
}
