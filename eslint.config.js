import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Who may import whom under src/ (docs/DESIGN-NOTES.md, "Layers"): each layer lists the layers it may
// import besides itself. Every backend folder of src/adapters/ is a layer of its own.
const layers = {
  ports: [],
  options: ['ports'],
  runtime: ['ports', 'options'],
  health: ['ports', 'options', 'runtime'],
  'adapters/shared': ['ports', 'options', 'runtime'],
  // The test composition builds on the composition root; the suites themselves import no adapter.
  testing: ['ports', 'options', 'runtime', 'health', 'composition'],
  composition: ['ports', 'options', 'runtime', 'health', 'adapters'],
  'index.ts': ['ports', 'options', 'runtime', 'health', 'composition'],
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
  layers[`adapters/${name}`] = ['ports', 'options', 'runtime', 'adapters/shared'];
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
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
