#!/usr/bin/env node
import { main } from './dispatch.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Exit even if a library left a handle open; the timer itself never holds the process.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
