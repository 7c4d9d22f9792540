import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import type * as YamlModule from 'yaml';

/** A YAML syntax error, as plain values. */
export interface YamlProblem {
  readonly message: string;
  /** 1-based, when the parser knows where. */
  readonly line?: number;
  readonly col?: number;
}

/**
 * The YAML parser, loaded on first use and released once the agent has read its config.
 *
 * The config is parsed once at start, and the yaml package is ~0.6 MiB of V8 heap for the
 * life of the process (its code, source and classes): an agent whose idle budget is 70 MiB
 * (issue 15) loads it through require() and drops it from require's cache afterwards, so it
 * can be collected. A static import would keep it: ES modules are never unloaded.
 */
let loaded: { yaml: typeof YamlModule; root: string } | undefined;

/** Parses YAML text into plain values; any syntax error is returned, not thrown. */
export function parseYaml(text: string): { value: unknown; problems: YamlProblem[] } {
  const { yaml } = load();
  const doc = yaml.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  // Nothing of yaml's own leaves here: a Document or an error would hold its classes.
  const problems = doc.errors.map((e) => {
    const at = e.linePos?.[0];
    const message = e.message.split('\n')[0] ?? e.message;
    return at ? { message, line: at.line, col: at.col } : { message };
  });
  return { value: problems.length > 0 ? undefined : doc.toJS(), problems };
}

/** Lets the parser be collected; the next parseYaml() loads it again. */
export function releaseYamlParser(): void {
  if (!loaded) return;
  const require = createRequire(import.meta.url);
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(loaded.root)) delete require.cache[key];
  }
  loaded = undefined;
}

function load(): { yaml: typeof YamlModule; root: string } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const entry = require.resolve('yaml'); // node_modules/yaml/dist/index.js
  loaded = { yaml: require('yaml') as typeof YamlModule, root: dirname(dirname(entry)) + sep };
  return loaded;
}
