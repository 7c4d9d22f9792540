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
