// The layers of the code (docs/architecture.md "Layers"), enforced by ESLint's own
// no-restricted-imports: each folder names the folders it may import from; every other
// folder of the project is forbidden to it, so a backwards import fails `npm run lint`.
// A test (test/unit/core/layers.test.ts) lints sample imports against these rules.

/** The folders of src/, and what each may import besides itself. */
const SRC = {
  core: [],
  config: ['core'],
  hosts: ['core', 'config'],
  collectors: ['core', 'config', 'hosts'],
  state: ['core', 'config', 'collectors'],
  store: ['core', 'config'],
  mqtt: ['core', 'config'],
  http: ['core', 'config'],
  sinks: ['core', 'config', 'store', 'mqtt'],
  commands: ['core', 'config', 'hosts', 'collectors', 'state', 'store', 'mqtt'],
};
const ALL = [...Object.keys(SRC), 'capabilities', 'cli'];

/** An import specifier that reaches into folder `name` (of src/, or top-level). */
const into = (names) => `(^|/)(${names.join('|')})/`;

const rule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const layer = (folder, allowed) => {
  const forbidden = ALL.filter((f) => f !== folder && !allowed.includes(f));
  const names = allowed.map((a) => `src/${a}/`);
  let regex = into([...forbidden, 'discovery', 'bridges']);
  if (folder === 'config') {
    // The root schema lists each capability's section: its config.ts, nothing else.
    // Bridges are capabilities too (bridges/<name>/config.ts).
    const others = forbidden.filter((f) => f !== 'capabilities');
    const configOnly = (dir) => `(^|/)${dir}/(?![^/]+/config\\.js$)`;
    regex = `${into([...others, 'discovery'])}|${configOnly('capabilities')}|${configOnly('bridges')}`;
    names.push('src/capabilities/*/config.ts', 'bridges/*/config.ts');
  }
  const message = `src/${folder}/ may import only from ${names.join(', ') || 'itself'} (docs/architecture.md "Layers")`;
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: rule([
      { regex, message },
      { regex: '^(\\.\\./)+main\\.js$', message: 'only src/cli/ imports the composition root' },
    ]),
  };
};

export const layers = [
  ...Object.entries(SRC).map(([folder, allowed]) => layer(folder, allowed)),
  {
    files: ['src/capabilities/**/*.ts'],
    rules: rule([
      { regex: into(['cli']), message: 'a capability never imports the CLI' },
      { regex: '^(\\.\\./)+main\\.js$', message: 'only src/cli/ imports the composition root' },
    ]),
  },
  {
    // Read by the root schema: nothing but zod and the config's own field helpers, so
    // loading the config never loads a capability's runtime.
    files: ['src/capabilities/*/config.ts', 'bridges/*/config.ts'],
    rules: rule([
      {
        regex: '^\\.\\./\\.\\./(?!(src/)?config/(units|capability-config)\\.js$)|^\\./',
        message: "a capability's config.ts imports only zod and src/config/units.ts",
      },
    ]),
  },
  {
    files: ['bridges/*/config.ts'],
    rules: rule([
      {
        regex: '^\\.\\./\\.\\./(?!src/config/(units|capability-config)\\.js$)|^\\./',
        message: "a bridge's config.ts imports only zod and src/config/units.ts",
      },
    ]),
  },
  {
    files: ['discovery/**/*.ts'],
    rules: rule([
      {
        regex: '(^|/)src/(capabilities|cli)/|(^|/)src/main\\.js$|(^|/)bridges/',
        message:
          'discovery/ depends on src/ types, never on capabilities, the CLI, main.ts or bridges/',
      },
    ]),
  },
  {
    files: ['bridges/**/*.ts'],
    rules: rule([
      {
        regex: '(^|/)src/cli/|(^|/)src/main\\.js$',
        message: 'bridges/ never import the CLI or the composition root',
      },
    ]),
  },
];
