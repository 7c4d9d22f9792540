import { OutpostError, errorMessage } from '../core/errors.js';
import { notJson, parseInspectElement, type InspectRecord } from './inspect-schema.js';
import { JsonSequenceSplitter } from './inspect-stream.js';
import { shJoin, shQuote } from './shell-quote.js';
import type { CommandRunner } from './ssh-connection.js';

/**
 * A container engine reached through its CLI on a remote host: one exec per poll lists
 * every container and inspects them all. The script is fixed; the only words put into it
 * are the configured engine command, each quoted. Container ids come from the engine's own
 * `ps` output and are checked against CONTAINER_ID's pattern in the script before they
 * are passed on, as separate words; container names never enter a command at all.
 */

export interface RemoteEngineOptions {
  runner: CommandRunner;
  /** The engine CLI as argv, e.g. ['sudo', '/usr/local/bin/docker'] or ['podman']. */
  command: readonly string[];
  timeoutMs: number;
  /** The host, for messages. */
  source: string;
}

export interface RemoteListing {
  records: InspectRecord[];
  engine: 'docker' | 'podman';
}

/** What listEach found, besides the records it handed over. */
export interface RemoteListingSummary {
  count: number;
  engine: 'docker' | 'podman';
}

/**
 * What inspect prints per container: the fields InspectRecord reads, one JSON object per
 * line, instead of the whole record (~4 KB, mostly mounts, networks and host config): about
 * a tenth of the bytes to carry over SSH and to scan per poll. Go field names (`.ID`, not
 * `.Id`): docker's CLI runs the template on its typed struct first, podman's only there.
 * `State` is whole: podman is recognised by its `State.OciVersion`.
 */
export const INSPECT_FORMAT =
  '{"Id":{{json .ID}},"Name":{{json .Name}},"Created":{{json .Created}},' +
  '"RestartCount":{{json .RestartCount}},"Image":{{json .Image}},' +
  '"Config":{"Image":{{json .Config.Image}},"Labels":{{json .Config.Labels}}},' +
  '"State":{{json .State}}}';

/** Exit codes the script uses for its own failures (the engine's are passed through). */
export const EXIT_PS_FAILED = 90;
export const EXIT_BAD_ID = 91;

/**
 * The script, on one line so that it survives any login shell as the argument of
 * `sh -c` (csh rejects a newline inside quotes). `set -f`: no globbing of the ids. The
 * engine argv sits in "$@" and the final inspect is exec'd, so on a timeout the KILL the
 * agent sends through SSH reaches the engine process, not a shell around it.
 */
export function listScript(command: readonly string[]): string {
  const script = [
    'set -f',
    `set -- ${shJoin(command)}`,
    `ids=$("$@" ps -aq --no-trunc) || exit ${EXIT_PS_FAILED}`,
    'for id in $ids; do case $id in *[!0-9a-f]*) ' +
      `echo "outpost: the engine listed a malformed container id" >&2; exit ${EXIT_BAD_ID};; esac; ` +
      'if [ ${#id} -lt 12 ] || [ ${#id} -gt 64 ]; then ' +
      `echo "outpost: the engine listed a container id of unexpected length" >&2; exit ${EXIT_BAD_ID}; fi; done`,
    'if [ -z "$ids" ]; then exit 0; fi',
    `exec "$@" inspect --format ${shQuote(INSPECT_FORMAT)} $ids`,
  ].join('; ');
  return `sh -c ${shQuote(script)}`;
}

export class RemoteEngine {
  readonly #opts: RemoteEngineOptions;
  readonly #script: string;
  #engine: 'docker' | 'podman' = 'docker';

  constructor(opts: RemoteEngineOptions) {
    this.#opts = opts;
    this.#script = listScript(opts.command);
  }

  /** Every container, inspected, in one round trip. */
  async listAll(): Promise<RemoteListing> {
    const records: InspectRecord[] = [];
    const { engine } = await this.listEach((r) => records.push(r));
    return { records, engine };
  }

  /**
   * The same round trip as listAll, but each record is validated and handed to
   * `onRecord` as soon as it has arrived, and then dropped: the output is never held
   * whole. Each record comes with a hash of its bytes; when `known(hash)` says the
   * caller has that record from an earlier listing, it is neither decoded, parsed nor
   * handed over. Rejects as listAll does, after the command has ended; records handed
   * over (or known) before a rejection are then to be discarded.
   */
  async listEach(
    onRecord: (record: InspectRecord, hash: number) => void,
    known?: (hash: number) => boolean,
  ): Promise<RemoteListingSummary> {
    const { runner, timeoutMs, source, command } = this.#opts;
    const what = `${source}: ${command.join(' ')}`;
    let podman = false;
    let parsed = 0;
    let failure: Error | undefined;
    const splitter = new JsonSequenceSplitter((hash, index) => {
      if (known?.(hash)) return;
      let value: unknown;
      try {
        value = JSON.parse(splitter.text());
      } catch (err) {
        return splitter.fail(errorMessage(err));
      }
      try {
        const record = parseInspectElement(value, index, `${what} inspect`);
        podman ||= isPodmanRecord(record);
        parsed++;
        onRecord(record, hash);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        splitter.fail('rejected');
      }
    });
    const res = await runner.exec(this.#script, {
      timeoutMs,
      onStdout: (chunk) => splitter.pushBytes(chunk),
    });
    // A runner that does not stream returns stdout whole.
    if (res.stdout.length > 0) splitter.pushBytes(res.stdout);
    splitter.end();
    if (res.code !== 0 && !removedMeanwhile(res.code, res.stderr)) {
      throw commandFailed(what, res.code, res.signal, res.stderr);
    }
    if (failure !== undefined) throw failure;
    if (splitter.problem !== undefined) {
      throw notJson(`${what} inspect`, splitter.problem, splitter.bytes, splitter.head);
    }
    // Records all known: the engine is what the last records parsed said it was.
    if (parsed > 0) this.#engine = podman ? 'podman' : 'docker';
    return { count: splitter.count, engine: this.#engine };
  }
}

/**
 * A container removed between `ps` and `inspect` makes inspect exit 1 while still
 * printing the others: that is a normal race, not a failure.
 */
function removedMeanwhile(code: number | null, stderr: string): boolean {
  return code === 1 && /no such (object|container)/i.test(stderr);
}

function commandFailed(
  what: string,
  code: number | null,
  signal: string | null,
  stderr: string,
): OutpostError {
  const detail = stderr.trim().split('\n').slice(0, 3).join(' / ') || 'no error output';
  const step =
    code === EXIT_PS_FAILED
      ? 'ps failed'
      : code === EXIT_BAD_ID
        ? 'unexpected ps output'
        : code === 127
          ? 'command not found'
          : signal
            ? `killed by ${signal}`
            : `exit code ${code ?? '?'}`;
  return new OutpostError('ENGINE_COMMAND_FAILED', `${what}: ${step}: ${detail}`, {
    retryable: true,
  });
}

/** podman's own CLI writes fields Docker has never had. */
function isPodmanRecord(r: InspectRecord): boolean {
  return r.ImageName !== undefined || 'OciVersion' in r.State;
}
