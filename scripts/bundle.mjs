// Bundles the compiled agent (dist/src, dist/bridges, dist/discovery, and the libraries it
// imports) into dist/agent/: what bin/outpost runs. Run by `npm run build`, after tsc.
//
// Why (issue 15, docs/scaling.md): node keeps the source text of every module it loads, for
// lazy compilation, and a function, scope and module record for each. One bundle with
// whitespace and syntax minified and unused exports dropped holds less of all of it: the
// idle agent's live heap went from 16.6 to 14.3 MiB. Names are kept (stack traces, class
// names in logs); dynamic imports stay lazy as chunks of their own (--splitting).
//
// Left to node_modules at run time: every package that builds a native addon (a
// binding.gyp: better-sqlite3, ssh2, unix-dgram, cpu-features; each finds its .node file
// next to its own files), and what the agent loads through createRequire on purpose, to
// load late or to release (yaml, node-cron, pino-pretty, aedes-persistence's class).
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'agent');
rmSync(outdir, { recursive: true, force: true });

/** The installed packages (scoped ones too) that build a native addon, anywhere inside. */
function nativePackages() {
  const modules = join(root, 'node_modules');
  const names = readdirSync(modules, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .flatMap((e) =>
      e.name.startsWith('@')
        ? readdirSync(join(modules, e.name)).map((m) => `${e.name}/${m}`)
        : [e.name],
    );
  const hasAddon = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? e.name !== 'node_modules' && hasAddon(join(dir, e.name))
        : e.name === 'binding.gyp',
    );
  return names.filter((n) => hasAddon(join(modules, n)));
}

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
  external: [...nativePackages(), 'yaml', 'node-cron', 'pino-pretty', 'aedes-persistence'],
  // The CommonJS libraries in the bundle require node's own modules; an ES module has no
  // `require` of its own.
  banner: {
    js: "import { createRequire as __outpostRequire } from 'node:module'; const require = __outpostRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
