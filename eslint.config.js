import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Who may import whom under src/ (docs/DESIGN-NOTES.md, "Layers"): each layer lists the layers it may
// import besides itself. Every backend folder of src/adapters/ is a layer of its own.
const layers = {
  ports: [],
  runtime: ['ports'],
  health: ['ports', 'runtime'],
  'adapters/shared': ['ports', 'runtime'],
  // The test composition builds on the composition root; the suites themselves import no adapter.
  testing: ['ports', 'runtime', 'health', 'config'],
  config: ['ports', 'runtime', 'health', 'adapters'],
  'index.ts': ['ports', 'runtime', 'health', 'config'],
};
const src = join(import.meta.dirname, 'src');
const adapterEntries = readdirSync(join(src, 'adapters'), { withFileTypes: true });
const strayAdapterFile = adapterEntries.find((entry) => !entry.isDirectory());
if (strayAdapterFile) {
  throw new Error(
    `src/adapters/${strayAdapterFile.name}: a backend is a folder; shared code goes in src/adapters/shared/`,
  );
}
for (const { name } of adapterEntries.filter((entry) => entry.name !== 'shared')) {
  layers[`adapters/${name}`] = ['ports', 'runtime', 'adapters/shared'];
}
// A new top-level entry of src/ must be placed in the table, else nothing would check it.
const unplaced = readdirSync(src).find((name) => name !== 'adapters' && !(name in layers));
if (unplaced) {
  throw new Error(`src/${unplaced} is in no layer: add it to the layers table of eslint.config.js`);
}

const allowedText = (allowed) =>
  allowed.length === 0 ? 'nothing else of berth' : `only ${allowed.map((name) => `src/${name}`).join(', ')}`;
// Paths are resolved, so `../../runtime/x.ts`, re-exports, `import type` and dynamic `import()` all count.
const layerZones = Object.entries(layers).map(([layer, allowed]) => ({
  target: `./src/${layer}`,
  from: './src',
  except: [layer, ...allowed].map((name) => `./${name}`),
  message: `src/${layer} may import ${allowedText(allowed)} (docs/DESIGN-NOTES.md, Layers).`,
}));

// Who may import whom outside src/ (docs/DESIGN-NOTES.md, "Test servers"): the test servers stand
// alone (node builtins and npm packages only), the tests' helpers build on them, the command-line
// entries on both; nothing imports a command-line entry. Every top-level folder of code and every
// folder of test/ counts, so a new one is covered too.
const rooms = {
  'test/servers': [],
  'test/support': ['src', 'test/servers'],
  scripts: ['src', 'test/servers', 'test/support'],
};
const codeFolders = [
  'src',
  'scripts',
  'bench',
  'examples',
  ...readdirSync(join(import.meta.dirname, 'test'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `test/${entry.name}`),
];
const roomZones = Object.entries(rooms).map(([room, allowed]) => ({
  target: `./${room}`,
  from: codeFolders.filter((folder) => folder !== room && !allowed.includes(folder)).map((f) => `./${f}`),
  message: `${room} may import ${allowed.length === 0 ? 'no code of the repo' : `only ${allowed.join(', ')}`} (docs/DESIGN-NOTES.md, Test servers).`,
}));
const commandLineZone = {
  target: codeFolders.filter((folder) => folder !== 'scripts').map((folder) => `./${folder}`),
  from: './scripts',
  // The README generator's functions are checked by test/unit/env-table.test.ts.
  except: ['./env-table.ts'],
  message:
    'scripts/ holds command-line entries, which nothing imports: put shared code in test/servers or test/support.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.prof/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Rejections pass on whatever a driver or caller threw, typed unknown.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  {
    files: ['scripts/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })] },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        { basePath: import.meta.dirname, zones: [...roomZones, commandLineZone] },
      ],
    },
  },
  {
    // import-x/no-cycle skips `import type`: type-only circles are not reported. It follows only
    // files with the extensions listed here (its default is .js, .mjs and .cjs).
    files: ['src/**/*.ts', 'test/servers/**/*.ts'],
    settings: { 'import-x/extensions': ['.ts', '.js'], 'import-x/ignore': ['node_modules'] },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
