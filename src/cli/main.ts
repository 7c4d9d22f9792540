#!/usr/bin/env -S MALLOC_ARENA_MAX=4 MALLOC_TRIM_THRESHOLD_=65536 node --max-semi-space-size=1 --v8-pool-size=1 --optimize-for-size --max-opt=1 --expose-gc
// The flags keep the agent small (see BENCHMARKS.md, agent-idle-rss and
// container-agent-ssh-5000): a 1 MiB young generation and one V8 worker thread cost little
// for a mostly idle MQTT agent. --max-opt=1 stops at the baseline compiler: the optimizing
// one's compile zones and code were ~6 MiB of RSS with 5,000 containers, for work the
// agent does in a few % of a core either way. --expose-gc lets HeapTrim run a full
// collection every second while it is busy. Four malloc arenas, not two: with two the
// compiler thread shares the main arena, and the zones it frees stay resident between live
// allocations.
// npm start and the Docker image run with the same flags.
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
