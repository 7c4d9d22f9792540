import { readFile } from 'node:fs/promises';

/**
 * What a node process loaded, seen from a preload in its NODE_OPTIONS: every module it
 * imports (a module-load hook appends each URL to `file` as it loads) and, when it exits,
 * every CommonJS module in its require cache (a `require()` inside CommonJS passes no
 * hook). It only records: the process runs its own code unchanged.
 */
export function moduleLogOptions(file: string): string {
  const hook =
    `import { appendFileSync } from 'node:fs';` +
    `export async function load(url, context, next) {` +
    `  appendFileSync(${JSON.stringify(file)}, url + '\\n'); return next(url, context); }`;
  const preload =
    `import { register, createRequire } from 'node:module';` +
    `import { appendFileSync } from 'node:fs';` +
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});` +
    `const req = createRequire('/');` +
    `process.on('exit', () => appendFileSync(${JSON.stringify(file)},` +
    ` Object.keys(req.cache).map((f) => 'file://' + f + '\\n').join('')));`;
  return `--import=data:text/javascript,${encodeURIComponent(preload)}`;
}

/** The module URLs the log holds, once each. */
export async function loadedModules(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return [...new Set(text.split('\n').filter((l) => l !== ''))];
}
