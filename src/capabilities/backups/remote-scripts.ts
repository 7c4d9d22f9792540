import { shJoin, shQuote } from '../../hosts/shell-quote.js';

/** The first line a wrapped remote command prints: its process group id. */
export const PGID_MARKER = '@@outpost-backup:pgid ';

/**
 * A job's argv as the remote command line (issue #17). The remote shell only ever sees
 * this fixed wrapper and the config's words, each single-quoted (shell-quote.ts): `setsid
 * -w` puts the command in a new session — its own process group, whose id is the pid of
 * the `sh` that prints it — and waits for it, passing its exit status back. `exec "$@"`
 * makes that pid the command's own, so killing the group reaches it and all it started.
 */
export function wrappedCommand(argv: readonly string[]): string {
  const inner = `echo "${PGID_MARKER}$$"; exec "$@"`;
  return `exec setsid -w sh -c ${shQuote(inner)} outpost-backup ${shJoin(argv)}`;
}

/**
 * Kills a process group on the host: SIGTERM, up to 5 s for it to go, then SIGKILL. The
 * group id is passed as an argument (`$1`), never pasted into the script. `kill -SIG -N`
 * without `--`: dash's kill reads `--` as a pid and kills nothing.
 */
const KILL_SCRIPT = [
  'g=$1',
  'kill -TERM "-$g" 2>/dev/null || exit 0',
  'i=0',
  'while [ "$i" -lt 50 ] && kill -0 "-$g" 2>/dev/null; do sleep 0.1; i=$((i+1)); done',
  'kill -KILL "-$g" 2>/dev/null',
  'exit 0',
].join('\n');

export function killCommand(pgid: number): string {
  return `sh -c ${shQuote(KILL_SCRIPT)} outpost-kill ${shQuote(String(pgid))}`;
}

/**
 * The size of a path after a run, in KiB as `du -sk` counts them (POSIX, so busybox too).
 * Run the same way locally and over SSH; the path is an argument.
 */
const SIZE_SCRIPT = 'du -sk -- "$1" | { read -r k _; echo "$k"; }';

export function sizeCommand(path: string): readonly string[] {
  return ['sh', '-c', SIZE_SCRIPT, 'outpost-size', path];
}

/** What the age script prints when the path is not there. */
export const AGE_MISSING = '@@outpost-age:missing';
/** Files the age script looks at, at most: a bounded walk of a huge tree. */
export const AGE_MAX_FILES = 100_000;

/**
 * The newest modification time (epoch seconds) of a file, or of any file under a
 * directory up to 8 levels down and AGE_MAX_FILES files; nothing for an empty directory.
 * `stat -c %Y` is GNU coreutils' and busybox's; the path is an argument.
 */
const AGE_SCRIPT = [
  'p=$1',
  `[ -e "$p" ] || { echo '${AGE_MISSING}'; exit 0; }`,
  'if [ ! -d "$p" ]; then stat -c %Y -- "$p"; exit; fi',
  'find "$p" -maxdepth 8 -type f -exec stat -c %Y -- {} + 2>/dev/null |',
  `  head -n ${AGE_MAX_FILES} | sort -n | tail -n 1`,
].join('\n');

export function ageCommand(path: string): readonly string[] {
  return ['sh', '-c', AGE_SCRIPT, 'outpost-age', path];
}
