// The published shape of berth, read from package.json: what npm installs for a user and what
// it promises about versions. The packed tarball itself is tested in integration/package-install.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { minimumNodeMajor } from '../../src/ports/supported-node.ts';
import { readManifest, repoRoot } from '../support/packed-app.ts';

const manifest = await readManifest();

describe('package.json', () => {
  it('promises for each optional SDK the versions the tests install, no wider', () => {
    for (const [name, range] of Object.entries(manifest.peerDependencies)) {
      assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is an optional peer`);
      // The OpenTelemetry API is shared with the app's SDK: any 1.x from the one tested on (dev pins ~1.9,
      // the line the 2.x trace SDK accepts).
      const tested = manifest.devDependencies[name]?.replace(/^~/, '^');
      assert.equal(
        range,
        tested,
        `${name}: peer range ${range}, tested with ${manifest.devDependencies[name]}`,
      );
    }
  });

  it('states the Node version that the import check enforces', () => {
    assert.equal(manifest.engines.node, `>=${minimumNodeMajor}`);
  });

  it('builds before packing, and ships the licence it names', () => {
    const scripts = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      license: string;
    };
    assert.match(scripts.scripts.prepack ?? '', /npm run build/);
    assert.ok(existsSync(path.join(repoRoot, 'LICENSE')));
    assert.match(
      readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'),
      new RegExp(`^${scripts.license} License`),
    );
  });
});
