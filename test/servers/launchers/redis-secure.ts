// Redis as production runs it: TLS only (no plaintext port), the `default` user disabled, and one
// ACL user that may run only the commands berth's cache and Redis Streams broker send (the list in
// docs/backends/redis.md is this one), and an admin the tests use to make users and change their
// passwords (rotation). Certificates from ../certificates.ts; the passwords are made once and kept
// in the state folder.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { runCertificates } from '../certificates.ts';
import { keptPassword } from '../passwords.ts';
import { aptInstaller } from './apt-installer.ts';
import { HOST, portFromEnv, type ServiceContext, type ServiceDefinition } from './definition.ts';

export const REDIS_SECURE_USER = 'berth';
export const REDIS_SECURE_ADMIN = 'berth-admin';

/** What the cache and the broker send, and what node-redis sends to set up a connection. */
export const redisSecureCommands = [
  // connection setup and probes
  'auth',
  'hello',
  'ping',
  'select',
  'client|setname',
  'info',
  // cache
  'get',
  'set',
  'mget',
  'del',
  'unlink',
  'exists',
  'ttl',
  'pttl',
  'scan',
  'multi',
  'exec',
  // broker (Redis Streams)
  'xadd',
  'xreadgroup',
  'xack',
  'xautoclaim',
  'xgroup|create',
  'xinfo|groups',
  'xtrim',
] as const;

const password = (ctx: ServiceContext, user: 'user' | 'admin' = 'user'): string =>
  keptPassword(path.join(ctx.dir, `${user}.password`));

function configFile(ctx: ServiceContext): string {
  const certificates = runCertificates(ctx.dir);
  const file = path.join(ctx.dir, 'redis.conf');
  const commands = redisSecureCommands.map((command) => `+${command}`).join(' ');
  fs.writeFileSync(
    file,
    [
      `bind ${HOST}`,
      'port 0',
      `tls-port ${ctx.port}`,
      `tls-cert-file ${certificates.serverCertFile}`,
      `tls-key-file ${certificates.serverKeyFile}`,
      `tls-ca-cert-file ${certificates.caFile}`,
      'tls-auth-clients optional',
      'save ""',
      'appendonly no',
      `dir ${ctx.dir}`,
      'user default off',
      `user ${REDIS_SECURE_USER} on >${password(ctx)} resetkeys ~* resetchannels -@all ${commands}`,
      `user ${REDIS_SECURE_ADMIN} on >${password(ctx, 'admin')} ~* &* +@all`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

// AUTH then PING over TLS with the run's CA: the server answers only when TLS and the user work.
function answersAsUser(ctx: ServiceContext): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: HOST,
      port: ctx.port,
      ca: fs.readFileSync(runCertificates(ctx.dir).caFile),
    });
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), 1_000);
    let reply = '';
    const pass = password(ctx);
    socket.on('secureConnect', () =>
      socket.write(
        `*3\r\n$4\r\nAUTH\r\n$${REDIS_SECURE_USER.length}\r\n${REDIS_SECURE_USER}\r\n$${pass.length}\r\n${pass}\r\n*1\r\n$4\r\nPING\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n+PONG\r\n') || reply.startsWith('-')) done(reply === '+OK\r\n+PONG\r\n');
    });
    socket.on('error', () => done(false));
  });
}

export const redisSecure: ServiceDefinition = {
  install: aptInstaller({ 'redis-server': 'redis-server', openssl: 'openssl' }),
  port: () => portFromEnv('BERTH_REDIS_SECURE_PORT', 16380),
  command: (ctx) => ({
    command: 'redis-server',
    args: [configFile(ctx), '--daemonize', 'no', '--logfile', ''],
  }),
  answers: (ctx) => answersAsUser(ctx).catch(() => false),
  // Outside REDIS_*: beside an app's own REDIS_URL these would be a second, conflicting config.
  env: (ctx) => {
    const certificates = runCertificates(ctx.dir);
    return {
      BERTH_REDIS_SECURE_URL: `rediss://${REDIS_SECURE_USER}:${password(ctx)}@${HOST}:${ctx.port}`,
      BERTH_REDIS_SECURE_ADMIN_URL: `rediss://${REDIS_SECURE_ADMIN}:${password(ctx, 'admin')}@${HOST}:${ctx.port}`,
      BERTH_REDIS_SECURE_CA_FILE: certificates.caFile,
      BERTH_REDIS_SECURE_CLIENT_CERT_FILE: certificates.clientCertFile,
      BERTH_REDIS_SECURE_CLIENT_KEY_FILE: certificates.clientKeyFile,
    };
  },
  startTimeoutMs: 20_000,
  processMatch: 'redis-server',
};
