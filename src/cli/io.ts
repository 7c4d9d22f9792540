/** Where a command writes and what environment it reads: passed in, so tests can capture. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /**
   * stderr when it is a terminal, for progress drawn over one line (`\r`); absent when
   * stderr is a file or a pipe, where progress would only be noise in a log.
   */
  tty?: { write(text: string): void } | undefined;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  tty: process.stderr.isTTY ? { write: (text) => process.stderr.write(text) } : undefined,
};
