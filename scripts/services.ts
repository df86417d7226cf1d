/**
 * Real servers for the tests, without Docker (the servers and their launchers: test/servers/).
 *
 *   npm run services -- up <name...>     install if needed, start, wait until it answers, print its env
 *   npm run services -- down [name...]   stop what this script started (all services without a name)
 *   npm run services -- status           one line per known service
 *   npm run services -- env [name...]    print the env of the running services (all without a name)
 *
 * stdout carries only `KEY=value` lines (for `export $(npm run -s services -- env)` or
 * `set -a; eval "$(npm run -s services -- env)"; set +a`), except for `status`; human messages
 * go to stderr.
 *
 * Each service keeps its working dir, log and pidfile in a state folder outside the repo:
 * `$BERTH_SERVICES_DIR/<name>/`, else `${XDG_CACHE_HOME:-~/.cache}/berth/services/<name>/`.
 * A new service is a definition in test/servers/launchers/<name>.ts, listed in the table of
 * test/servers/services.ts.
 */
import path from 'node:path';
import { log } from '../test/servers/launchers/definition.ts';
import {
  ensureService,
  serviceDefinition,
  serviceEnv,
  servicePid,
  services,
  serviceStatus,
  stateDir,
  stopService,
} from '../test/servers/services.ts';

const USAGE = `usage: npm run services -- <command>
  up <name...>      install if needed, start, wait until it answers, print its env (KEY=value)
  down [name...]    stop what this script started (all services without a name)
  status            state of every known service
  env [name...]     print the env of running services (all without a name)
services: ${Object.keys(services).join(', ')}
state: ${path.dirname(stateDir('x'))} (BERTH_SERVICES_DIR)`;

function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || /[\s'"`$\\]/.test(value)) {
        throw new Error(`env ${key}=${value} cannot be printed safely for the shell`);
      }
      return `${key}=${value}\n`;
    })
    .join('');
}

async function up(names: readonly string[]): Promise<number> {
  let output = '';
  for (const name of names) output += formatEnv(await ensureService(name));
  process.stdout.write(output);
  return 0;
}

async function down(names: readonly string[]): Promise<number> {
  for (const name of names) {
    const pid = servicePid(name);
    const stopped = await stopService(name);
    log(`${name}: ${stopped ? `stopped (pid ${pid})` : 'not running'}`);
  }
  return 0;
}

async function status(): Promise<number> {
  for (const name of Object.keys(services)) {
    const { pid, answering, provide, env, dir } = await serviceStatus(name);
    let state: string;
    if (pid !== undefined) state = `running (pid ${pid}), ${answering ? 'answering' : 'NOT answering'}`;
    else if (answering) state = 'stopped here, but something else answers on its port';
    else state = 'stopped';
    const vars = Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    process.stdout.write(`${name}: ${state}; ${provide}; ${vars}; state ${dir}\n`);
  }
  return 0;
}

/** Prints the env of the running ones; 1 when a service named explicitly is not running. */
async function env(names: readonly string[], named: boolean): Promise<number> {
  let output = '';
  let missing = 0;
  for (const name of names) {
    const vars = await serviceEnv(name);
    if (vars) output += formatEnv(vars);
    else if (named) {
      log(`${name}: not running (start it with \`npm run services -- up ${name}\`)`);
      missing++;
    }
  }
  process.stdout.write(output);
  return missing > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const names = rest.length > 0 && !(rest.length === 1 && rest[0] === 'all') ? rest : Object.keys(services);
  for (const name of rest) if (name !== 'all') serviceDefinition(name);
  switch (command) {
    case 'up':
      if (rest.length === 0) {
        log('up: name the services to start, e.g. `up redis` (or `up all`)');
        return 2;
      }
      return up(names);
    case 'down':
      return down(names);
    case 'status':
      return status();
    case 'env':
      return env(names, rest.length > 0);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stderr.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      log(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
