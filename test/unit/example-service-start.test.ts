// The example service's start and stop from outside: every bad setting named in one line, and
// `npm start` stopped by a signal to npm's PID.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { builtinAdapters } from '../../src/config/builtin-adapters.ts';
import { vocabularyOf } from '../../src/config/unknown-variables.ts';
import { statusOf } from '../support/example-service.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';

const root = join(import.meta.dirname, '..', '..');
const servicePids = new Set<number>();
after(() => {
  for (const pid of servicePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// The machine's own berth-like variables (a developer's KAFKA_BROKERS, CI's servers) stay out: each
// case sets exactly the settings it is about.
const { prefixes } = vocabularyOf(builtinAdapters);
const inherited = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !prefixes.some((prefix) => name.startsWith(prefix))),
);

async function startFailing(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['examples/service.ts'], {
    cwd: root,
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('example service settings', () => {
  it('names every bad setting at once, in one line, and exits 1', async () => {
    const secret = 'not-for-the-log-42';
    const { code, stdout, stderr } = await startFailing({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      HEALTH_DETAILS: 'yes',
      CACHE_DRIVER: 'memcached',
      CACHE_TIMEOUT_MS: '-5',
      BROKER_DRIVER: 'kafka',
      KAFKA_SASL_PASSWORD: secret,
    });
    assert.equal(code, 1);
    assert.equal(stderr, '', 'no stack on stderr');
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1, stdout);
    const line = JSON.parse(lines[0]!) as { level: number; msg: string; err: { message: string } };
    assert.equal(line.level, 60);
    assert.equal(line.msg, 'invalid configuration');
    for (const variable of [
      'PORT',
      'LOG_LEVEL',
      'HEALTH_DETAILS',
      'CACHE_DRIVER',
      'CACHE_TIMEOUT_MS',
      'KAFKA_BROKERS',
    ])
      assert.match(line.err.message, new RegExp(`\\b${variable}: `), variable);
    assert.match(
      line.err.message,
      /LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/,
    );
    assert.equal(stdout.includes(secret), false);
  });

  it('a negative PORT is named, not ERR_SOCKET_BAD_PORT', async () => {
    const { code, stdout, stderr } = await startFailing({ PORT: '-1' });
    assert.equal(code, 1);
    assert.equal(stderr, '');
    assert.match(stdout, /PORT: must be a TCP port, a whole number from 1 to 65535/);
    assert.doesNotMatch(stdout, /ERR_SOCKET_BAD_PORT/);
  });
});

describe('npm start', () => {
  it('stops when npm’s PID gets SIGTERM (npm’s shell does not pass it on)', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: { ...inherited, PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('npm start answers /livez', async () => (await statusOf(`${base}/livez`)) === 200, 60_000);
    const pid = /"pid":(\d+)/.exec(output)?.[1];
    assert.ok(pid !== undefined, output);
    servicePids.add(Number(pid));
    const exited = once(npm, 'exit');
    npm.kill('SIGTERM');
    await exited;
    await waitFor('the service stops answering', async () => (await statusOf(`${base}/livez`)) === 0, 10_000);
    // Closed as on SIGTERM: readiness down, components closed, not killed.
    await sleep(500);
    assert.match(output, /"msg":"closed"/, output);
  });
});
