// The SQL servers of the tests, found as test/support/servers.ts finds every server.
import { tdsLogin } from '../servers/tds/probe.ts';
import { findServer, type Skip } from './servers.ts';

/** PostgreSQL; `POSTGRES_URL` is `postgres://user:password@host:port/db`. */
export async function findPostgres(): Promise<{ url: string } | Skip> {
  const server = await findServer('postgres', {
    envVar: 'POSTGRES_URL',
    service: 'postgres',
    container: {
      image: 'postgres:16-alpine',
      port: 5432,
      value: (host, port) => `postgres://berth:berth@${host}:${port}/berth`,
      configure: (container) =>
        container
          .withEnvironment({ POSTGRES_USER: 'berth', POSTGRES_PASSWORD: 'berth', POSTGRES_DB: 'berth' })
          .withCommand('postgres -c fsync=off -c synchronous_commit=off -c max_connections=200'.split(' ')),
      // Its port opens a moment before it accepts connections ("starting up"): wait for pg_isready.
      env: async (container) => {
        const wait = 'for i in $(seq 300); do pg_isready -q -h 127.0.0.1 && exit 0; sleep 0.2; done; exit 1';
        if ((await container.exec(['sh', '-c', wait])).exitCode !== 0)
          throw new Error('postgres: not ready in 60 s');
        return {};
      },
    },
  });
  return 'skip' in server ? server : { url: server.value };
}

/** The sa password of the SQL Server container (and of docker-compose.test.yml's `mssql`). */
const MSSQL_CONTAINER_PASSWORD = 'Berth-Test-Passw0rd';

/**
 * Microsoft SQL Server; `MSSQL_URL` is `mssql://user:password@host:port/database`. Locally it is
 * berth's own TDS server on SQLite (test/servers/tds/: the protocol in full, a T-SQL subset),
 * which says so with `BERTH_MSSQL_EMULATED=true`; in a container SQL Server 2022 itself.
 */
export async function findMssql(): Promise<{ url: string; emulated: boolean } | Skip> {
  const server = await findServer('mssql', {
    envVar: 'MSSQL_URL',
    service: 'mssql',
    container: {
      image: 'mcr.microsoft.com/mssql/server:2022-latest',
      port: 1433,
      value: (host, port) => `mssql://sa:${MSSQL_CONTAINER_PASSWORD}@${host}:${port}/master`,
      configure: (container) =>
        container
          .withEnvironment({
            ACCEPT_EULA: 'Y',
            MSSQL_SA_PASSWORD: MSSQL_CONTAINER_PASSWORD,
            MSSQL_PID: 'Developer',
          })
          .withStartupTimeout(180_000),
      // The port opens well before logins work: wait for one.
      env: async (container) => {
        const deadline = Date.now() + 120_000;
        const login = { host: container.getHost(), port: container.getMappedPort(1433), user: 'sa' };
        for (;;) {
          const result = await tdsLogin({ ...login, password: MSSQL_CONTAINER_PASSWORD }).catch(
            () => undefined,
          );
          if (result?.ok) return { BERTH_MSSQL_EMULATED: 'false' };
          if (Date.now() > deadline) throw new Error('SQL Server in the container accepts no login');
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      },
    },
  });
  if ('skip' in server) return server;
  const emulated =
    server.source === 'env' ? process.env['BERTH_MSSQL_EMULATED'] : server.env?.['BERTH_MSSQL_EMULATED'];
  return { url: server.value, emulated: emulated === 'true' };
}
