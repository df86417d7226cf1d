// berth calls Node 22 APIs (Promise.withResolvers among them) deep inside its adapters; on an older
// Node it would load, run for a while and fail at the first such call, so it refuses at import.
// Kept equal to package.json's `engines.node` by test/unit/package-manifest.test.ts.
export const minimumNodeMajor = 22;

const running = process.versions.node;
if (Number(running.split('.')[0]) < minimumNodeMajor) {
  throw new Error(
    `berth needs Node.js ${minimumNodeMajor} or newer (package.json engines: >=${minimumNodeMajor}); this is Node.js ${running}. Upgrade Node, e.g. to the current LTS.`,
  );
}
