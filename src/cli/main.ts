// The agent's entry point. Users, npm start, the Docker image and the tests run it through
// bin/outpost, which sets its node flags and malloc environment (and says why each is
// there); `node dist/agent/main.js` (this file bundled) runs it under node's defaults.
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
