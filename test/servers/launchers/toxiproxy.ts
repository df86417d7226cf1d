// Toxiproxy 2 (a TCP proxy whose faults are set over HTTP) for the chaos tests, built from the Go
// module proxy with `go install`. The binary goes to a folder of its own version in the cache
// (outside the repo, shared by every state folder, so a test's own BERTH_SERVICES_DIR never
// builds it again); the API listens on 127.0.0.1 (BERTH_TOXIPROXY_PORT, default 18474) and each
// test creates the proxies it needs through it (test/support/toxiproxy.ts).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, log, portFromEnv, type ServiceDefinition } from './definition.ts';
import { cacheHome, which } from './machine.ts';

const TOXIPROXY_VERSION = '2.12.0';
const MODULE = `github.com/Shopify/toxiproxy/v2/cmd/server@v${TOXIPROXY_VERSION}`;
/** Toxiproxy 2.12's go.mod says `go 1.23.0`. */
const MIN_GO = [1, 23] as const;

/** `~/.cache/berth/toxiproxy-2.12.0/bin/server` (`go install` names it after its package folder). */
function binaryPath(): string {
  return path.join(cacheHome(), 'berth', `toxiproxy-${TOXIPROXY_VERSION}`, 'bin', 'server');
}

function goIsRecentEnough(): boolean {
  if (which('go') === undefined) return false;
  const result = spawnSync('go', ['env', 'GOVERSION'], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  const match = /go(\d+)\.(\d+)/.exec(result.stdout ?? '');
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > MIN_GO[0] || (major === MIN_GO[0] && minor >= MIN_GO[1]);
}

async function build(): Promise<void> {
  if (!goIsRecentEnough()) {
    throw new Error(`toxiproxy ${TOXIPROXY_VERSION} is built with Go >= ${MIN_GO.join('.')}; none on PATH`);
  }
  const bin = path.dirname(binaryPath());
  // Built into a folder of its own and moved whole, so a half-written binary is never "installed".
  const partial = `${bin}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  log(`toxiproxy: $ go install -trimpath ${MODULE} (GOBIN=${partial}; about a minute the first time)`);
  try {
    await new Promise<void>((resolve, reject) => {
      // GOTOOLCHAIN=local: never download another Go; modules and build cache stay in Go's folders.
      // The version is set as Toxiproxy's release builds set it, so `answers` can tell it is ours.
      const ldflags = `-ldflags=-X github.com/Shopify/toxiproxy/v2.Version=${TOXIPROXY_VERSION}`;
      const child = spawn('go', ['install', '-trimpath', ldflags, MODULE], {
        env: {
          ...process.env,
          GOBIN: partial,
          GOTOOLCHAIN: 'local',
          GOFLAGS: '-buildvcs=false',
          CGO_ENABLED: '0',
        },
        stdio: ['ignore', process.stderr, process.stderr],
      });
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`go install failed (exit ${code}); see the output above`)),
      );
      child.once('error', reject);
    });
    fs.rmSync(bin, { recursive: true, force: true });
    fs.renameSync(partial, bin);
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
}

export const toxiproxy: ServiceDefinition = {
  install: {
    describe: `go install ${MODULE} into ${path.dirname(binaryPath())}`,
    isInstalled: () => fs.existsSync(binaryPath()),
    canInstall: goIsRecentEnough,
    install: build,
  },
  port: () => portFromEnv('BERTH_TOXIPROXY_PORT', 18474),
  command: (ctx) => ({ command: binaryPath(), args: ['-host', HOST, '-port', String(ctx.port)] }),
  answers: async (ctx) => {
    try {
      const response = await fetch(`http://${HOST}:${ctx.port}/version`, {
        signal: AbortSignal.timeout(1000),
      });
      const body = await response.text();
      return response.ok && (JSON.parse(body) as { version?: unknown }).version === TOXIPROXY_VERSION;
    } catch {
      return false;
    }
  },
  env: (ctx) => ({ TOXIPROXY_URL: `http://${HOST}:${ctx.port}` }),
  startTimeoutMs: 10_000,
  processMatch: `toxiproxy-${TOXIPROXY_VERSION}`,
};
