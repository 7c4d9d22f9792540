import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// The lint rules `npm run lint` applies (scripts/eslint.config.js spreads them in), checked
// here on sample imports: a backwards import must fail, a forward one must pass.
const { layers } = (await import(String('../../../scripts/layers.js'))) as {
  layers: Linter.Config[];
};

const config: Linter.Config[] = [
  { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
  ...layers,
];

/** The no-restricted-imports messages for `source` placed at `filename`. */
function problems(filename: string, source: string): string[] {
  return new Linter({ configType: 'flat' })
    .verify(source, config, { filename })
    .map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layers (docs/architecture.md)', () => {
  it.each([
    ['src/collectors/containers/x.ts', "import type { X } from '../../state/container-view.js';"],
    ['src/collectors/containers/x.ts', "import { X } from '../../mqtt/client.js';"],
    ['src/collectors/x.ts', "import { X } from '../../discovery/entity.js';"],
    ['src/core/x.ts', "import { X } from '../config/schema.js';"],
    ['src/state/x.ts', "import { X } from '../commands/remediation.js';"],
    ['src/commands/x.ts', "import { X } from '../capabilities/capability.js';"],
    ['src/store/x.ts', "import { X } from '../main.js';"],
    ['src/config/x.ts', "import { X } from '../capabilities/containers/module.js';"],
    ['src/capabilities/disks/config.ts', "import { X } from './collector.js';"],
    ['src/capabilities/disks/config.ts', "import { X } from '../../core/clock.js';"],
    ['discovery/x.ts', "import { X } from '../bridges/uplink/entities.js';"],
    ['discovery/entities/x.ts', "import { X } from '../../src/capabilities/capability.js';"],
    ['bridges/uplink/x.ts', "import { X } from '../../src/main.js';"],
  ])('refuses %s: %s', (file, source) => {
    const found = problems(file, source);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^no-restricted-imports: /);
  });

  it.each([
    ['src/collectors/containers/x.ts', "import { X } from '../../hosts/engine-api.js';"],
    ['src/state/x.ts', "import type { X } from '../collectors/containers/types.js';"],
    ['src/config/schema.ts', "import { X } from '../capabilities/containers/config.js';"],
    ['src/capabilities/disks/config.ts', "import { X } from '../../config/units.js';"],
    ['src/capabilities/disks/module.ts', "import { X } from '../../../discovery/family.js';"],
    ['src/main.ts', "import { X } from '../bridges/uplink/entities.js';"],
    ['src/cli/run.ts', "import { X } from '../main.js';"],
    ['discovery/x.ts', "import { X } from '../src/commands/policy/index.js';"],
    ['bridges/uplink/x.ts', "import { X } from '../../discovery/entity.js';"],
  ])('allows %s: %s', (file, source) => {
    expect(problems(file, source)).toEqual([]);
  });

  it('names the layer and what it may import', () => {
    expect(problems('src/collectors/x.ts', "import { X } from '../state/a.js';")).toEqual([
      "no-restricted-imports: '../state/a.js' import is restricted from being used by a pattern. " +
        'src/collectors/ may import only from src/core/, src/config/, src/hosts/ (docs/architecture.md "Layers")',
    ]);
  });
});
