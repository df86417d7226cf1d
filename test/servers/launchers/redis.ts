import { aptInstaller } from './apt-installer.ts';
import { HOST, portFromEnv, type ServiceDefinition } from './definition.ts';
import { respPing } from './probes.ts';

export const redis: ServiceDefinition = {
  install: aptInstaller({ 'redis-server': 'redis-server' }),
  port: () => portFromEnv('BERTH_REDIS_PORT', 16379),
  command: (ctx) => ({
    command: 'redis-server',
    args: [
      '--bind',
      HOST,
      '--port',
      String(ctx.port),
      '--daemonize',
      'no',
      '--dir',
      ctx.dir,
      '--logfile',
      '',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
  }),
  answers: async (ctx) => (await respPing(HOST, ctx.port, 1000).catch(() => '')) === '+PONG',
  env: (ctx) => ({ REDIS_URL: `redis://${HOST}:${ctx.port}` }),
  startTimeoutMs: 20_000,
  processMatch: 'redis-server',
};
