// Bundles the compiled agent (dist/src, dist/bridges, dist/discovery, and the libraries it
// imports) into dist/agent/: what bin/outpost runs. Run by `npm run build`, after tsc.
//
// Why (issue 15, docs/scaling.md): node keeps the source text of every module it loads, for
// lazy compilation, and a function, scope and module record for each. One bundle with
// whitespace and syntax minified and unused exports dropped holds less of all of it: the
// idle agent's live heap went from 16.6 to 14.3 MiB. Names are kept (stack traces, class
// names in logs); dynamic imports stay lazy as chunks of their own (--splitting).
//
// Left to node_modules at run time: native addons (better-sqlite3; ssh2, whose crypto
// binding and WebAssembly are found next to its files), and what the agent loads through
// createRequire on purpose, to load late or to release (yaml, node-cron, pino-pretty,
// aedes-persistence's class).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'agent');
rmSync(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/src/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'external',
  sourcemap: 'linked',
  external: [
    'better-sqlite3',
    'ssh2',
    'cpu-features',
    'yaml',
    'node-cron',
    'pino-pretty',
    'aedes-persistence',
  ],
  // The CommonJS libraries in the bundle require node's own modules; an ES module has no
  // `require` of its own.
  banner: {
    js: "import { createRequire as __outpostRequire } from 'node:module'; const require = __outpostRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
