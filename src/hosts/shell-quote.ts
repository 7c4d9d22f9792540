/**
 * POSIX shell quoting. SSH exec takes one command string that the remote login shell
 * parses, so every word that reaches it is single-quoted here; nothing from outside
 * (container names, ids, config values) is ever pasted into a command unquoted.
 *
 * Inside single quotes a POSIX shell treats every character literally except `'` itself
 * (POSIX.1-2017 XCU 2.2.2), which is written as `'\''`: close, escaped quote, reopen.
 */
export function shQuote(word: string): string {
  if (word.includes('\0')) {
    // No shell can pass a NUL inside an argument; refusing beats silently truncating.
    throw new TypeError('a shell word cannot contain a NUL character');
  }
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** An argv as one command line for a POSIX shell: each word quoted, joined by spaces. */
export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}
