import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { canProvide, ensureService } from '../servers/services.ts';
import { freePort } from '../support/ports.ts';
import { findRedis } from '../support/servers.ts';

const servicesScript = fileURLToPath(new URL('../../scripts/services.ts', import.meta.url));

/** Raw RESP over a socket: AUTH when the URL has a password, then PING; resolves the PING reply line. */
function pingUrl(url: string, timeoutMs = 5000): Promise<string> {
  const { protocol, hostname, port, username, password } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const options = { host, port: Number(port || 6379) };
  const socket =
    protocol === 'rediss:' ? tls.connect({ ...options, servername: host }) : net.connect(options);
  const command = (...args: string[]) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const auth = password
    ? command('AUTH', ...(username ? [decodeURIComponent(username)] : []), decodeURIComponent(password))
    : '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${host}:${options.port}`));
    }, timeoutMs);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.once(protocol === 'rediss:' ? 'secureConnect' : 'connect', () =>
      socket.write(auth + command('PING')),
    );
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\r\n');
      const wanted = auth ? 2 : 1;
      if (lines.length <= wanted) return;
      clearTimeout(timer);
      socket.destroy();
      if (auth && !lines[0]?.startsWith('+OK')) reject(new Error(`AUTH failed: ${lines[0]}`));
      else resolve(lines[wanted - 1] ?? '');
    });
    socket.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const run = promisify(execFile);

void describe('test servers', () => {
  void it('findRedis gives a URL where a raw RESP PING gets PONG', async (t) => {
    const redis = await findRedis();
    if ('skip' in redis) {
      t.skip(redis.skip);
      return;
    }
    assert.match(redis.url, /^rediss?:\/\//);
    assert.equal(await pingUrl(redis.url), '+PONG');
  });

  void it('ensureService("redis") twice at once gives the same env', async (t) => {
    if (!canProvide('redis')) {
      t.skip('this machine cannot run redis locally (no redis-server, cannot install it)');
      return;
    }
    const [first, second] = await Promise.all([ensureService('redis'), ensureService('redis')]);
    assert.deepEqual(first, second);
    assert.match(first['REDIS_URL'] ?? '', /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await pingUrl(first['REDIS_URL'] ?? ''), '+PONG');
  });

  void it('`up` from several processes at once starts one server; `down` stops it', async (t) => {
    if (!canProvide('redis')) {
      t.skip('this machine cannot run redis locally (no redis-server, cannot install it)');
      return;
    }
    // An instance of its own (state folder and port), so the shared one is left alone.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-services-'));
    const port = await freePort();
    const env = { ...process.env, BERTH_SERVICES_DIR: dir, BERTH_REDIS_PORT: String(port) };
    const cli = (...args: string[]) => run(process.execPath, [servicesScript, ...args], { env });
    try {
      const outputs = await Promise.all([cli('up', 'redis'), cli('up', 'redis'), cli('up', 'redis')]);
      const expected = `REDIS_URL=redis://127.0.0.1:${port}\n`;
      for (const { stdout } of outputs) assert.equal(stdout, expected);
      assert.equal(await pingUrl(`redis://127.0.0.1:${port}`), '+PONG');
      const started = outputs.filter(({ stderr }) => stderr.includes('redis: starting')).length;
      assert.equal(started, 1, outputs.map(({ stderr }) => stderr).join('\n'));

      assert.equal((await cli('env')).stdout, expected);
      const pid = Number(fs.readFileSync(path.join(dir, 'redis', 'redis.pid'), 'utf8'));

      await cli('down', 'redis');
      assert.equal(fs.existsSync(path.join(dir, 'redis', 'redis.pid')), false);
      await assert.rejects(pingUrl(`redis://127.0.0.1:${port}`, 1000));
      assert.equal((await cli('env')).stdout, '');
      assert.equal((await cli('up', 'redis')).stdout, expected, 'up again after down');
      assert.notEqual(Number(fs.readFileSync(path.join(dir, 'redis', 'redis.pid'), 'utf8')), pid);
    } finally {
      await cli('down').catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
