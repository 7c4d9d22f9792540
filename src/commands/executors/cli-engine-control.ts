import { OutpostError } from '../../core/errors.js';
import { parseInspectText } from '../../hosts/inspect-schema.js';
import { RemoteEngine } from '../../hosts/remote-engine.js';
import { shJoin, shQuote } from '../../hosts/shell-quote.js';
import type { CommandRunner } from '../../hosts/ssh-connection.js';
import {
  checkId,
  findIn,
  refOf,
  type ActOptions,
  type ContainerRef,
  type ControlVerb,
  type EngineControl,
} from './engine-control.js';

export interface CliEngineControlOptions {
  /** The host id, for messages. */
  host: string;
  runner: CommandRunner;
  /** The engine CLI as argv, e.g. ['sudo', '/usr/local/bin/docker']. */
  command: readonly string[];
  timeoutMs: number;
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
}

/**
 * The remote path: the engine CLI over SSH. The listing is RemoteEngine's fixed script;
 * acting runs `<engine> <verb> [-t N] <id>` where every word is quoted, the verb comes
 * from a fixed set and the id has been checked against CONTAINER_ID.
 */
export class CliEngineControl implements EngineControl {
  readonly #opts: CliEngineControlOptions;
  readonly #engine: RemoteEngine;
  readonly start?: () => Promise<void>;
  readonly stop?: () => Promise<void>;

  constructor(opts: CliEngineControlOptions) {
    this.#opts = opts;
    this.#engine = new RemoteEngine({
      runner: opts.runner,
      command: opts.command,
      timeoutMs: opts.timeoutMs,
      source: opts.host,
    });
    if (opts.start) this.start = opts.start;
    if (opts.stop) this.stop = opts.stop;
  }

  async find(name: string): Promise<ContainerRef | undefined> {
    return findIn((await this.#engine.listAll()).records, name);
  }

  async inspect(id: string): Promise<ContainerRef | undefined> {
    const res = await this.#run(['inspect', checkId(id)], this.#opts.timeoutMs);
    if (res.code === 1 && /no such (object|container)/i.test(res.stderr)) return undefined;
    this.#check('inspect', res);
    const [record] = parseInspectText(res.stdout, `${this.#opts.host}: inspect`);
    return record ? refOf(record) : undefined;
  }

  async act(verb: ControlVerb, id: string, opts: ActOptions): Promise<void> {
    const t = opts.stopTimeoutS;
    const timeout = verb === 'start' || t === undefined ? [] : ['-t', String(Math.trunc(t))];
    const res = await this.#run([verb, ...timeout, checkId(id)], opts.timeoutMs);
    this.#check(verb, res);
  }

  async #run(words: string[], timeoutMs: number) {
    const script = ['set -f', `set -- ${shJoin(this.#opts.command)}`, `exec "$@" ${shJoin(words)}`];
    const res = await this.#opts.runner.exec(`sh -c ${shQuote(script.join('; '))}`, { timeoutMs });
    return { code: res.code, stdout: res.stdout.toString('utf8'), stderr: res.stderr };
  }

  #check(what: string, res: { code: number | null; stderr: string }): void {
    if (res.code === 0) return;
    const detail = res.stderr.trim().split('\n').slice(0, 3).join(' / ') || 'no error output';
    throw new OutpostError(
      'ENGINE_COMMAND_FAILED',
      `${this.#opts.host}: ${this.#opts.command.join(' ')} ${what}: exit code ${res.code ?? '?'}: ${detail}`,
      { retryable: true },
    );
  }
}
