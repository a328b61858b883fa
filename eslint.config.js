// One linter for the whole repo: typescript-eslint's recommended rules, no type-aware rules
// (they would double CI time for little gain at this size).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/ and the layers each may import (docs/architecture.md explains why).
// A layer that imports one not listed here fails lint: the arrows stay one-way.
const LAYERS = {
  core: [],
  'kafka-client': ['core', 'log'],
  log: ['core'],
  observe: ['core'],
  inference: ['core'],
  broker: ['core', 'log'],
  stream: ['core', 'observe'],
  actions: ['core', 'stream', 'observe', 'log', 'kafka-client'],
  connectors: ['core', 'stream', 'log', 'observe', 'kafka-client'],
  // sluice/testing: drives pipelines (stream) with fake models (inference) and action targets (actions).
  testing: ['core', 'stream', 'observe', 'inference', 'actions'],
  // The demos the CLI runs (fraud, recommendations): applications on top of every library layer.
  apps: ['core', 'log', 'observe', 'inference', 'broker', 'kafka-client', 'stream', 'actions', 'connectors'],
};
const ALL_LAYERS = [...Object.keys(LAYERS), 'cli'];

function layerRules() {
  return Object.entries(LAYERS).map(([layer, allowed]) => {
    const forbidden = ALL_LAYERS.filter((other) => other !== layer && !allowed.includes(other));
    return {
      files: [`src/${layer}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                // Relative imports climbing out of this layer into a forbidden one, or into
                // the repository's examples/, tests and tooling (src/ ships on its own).
                regex: `^(\\.\\./)+(${forbidden.join('|')}|examples|test|bench|scripts)/`,
                message: `src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'no other layer'} (docs/architecture.md).`,
              },
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...layerRules(),
  {
    // One style of member privacy in src/: TypeScript's `private` (docs/architecture.md,
    // "Conventions"). src/inference predates the rule and keeps its `#` fields (there they also
    // keep state out of JSON.stringify and of structured clones sent to worker threads).
    files: ['src/**/*.ts'],
    ignores: ['src/inference/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'PrivateIdentifier',
          message: "use TypeScript's `private` for members, not `#` (docs/architecture.md, Conventions)",
        },
      ],
    },
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
);
