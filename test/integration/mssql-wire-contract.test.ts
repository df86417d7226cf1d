// Wire-level contract of the TDS test server with the real mssql/tedious driver: what the SQL
// Server adapter will rely on (logins, every parameter type, result sets, transactions, locks,
// cancellation, streaming, error numbers) against the `mssql` test server — berth's own TDS
// server on SQLite locally (test/servers/tds/), SQL Server 2022 where Docker runs it. The
// assertions hold for both: nothing here is emulator-only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sql from 'mssql';
import { canProvide } from '../servers/services.ts';
import { tdsLogin } from '../servers/tds/probe.ts';
import { freePort } from '../support/ports.ts';
import { findMssql } from '../support/servers.ts';

const server = await findMssql();
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const url = 'skip' in server ? 'mssql://sa:x@127.0.0.1:1/master' : server.url;

/** mssql's config from MSSQL_URL (mssql://user:password@host:port/database). */
function configFrom(from: string, overrides: Partial<sql.config> = {}): sql.config {
  const { hostname, port, username, password, pathname } = new URL(from);
  return {
    server: hostname,
    port: Number(port || 1433),
    user: decodeURIComponent(username),
    password: decodeURIComponent(password),
    database: decodeURIComponent(pathname.slice(1)) || 'master',
    // In clear here (the TLS case is its own test); SQL Server's certificate is self-signed.
    options: { encrypt: false, trustServerCertificate: true },
    pool: { max: 5, min: 0 },
    requestTimeout: 30_000,
    ...overrides,
  };
}

const connect = (overrides: Partial<sql.config> = {}): Promise<sql.ConnectionPool> =>
  new sql.ConnectionPool(configFrom(url, overrides)).connect();
const single = (): Promise<sql.ConnectionPool> => connect({ pool: { max: 1, min: 0 } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type SqlType = sql.ISqlType | (() => sql.ISqlType);

/** One request: `inputs` maps a parameter to its type and value. */
function run(
  on: sql.ConnectionPool | sql.Transaction,
  text: string,
  inputs: Record<string, [SqlType, unknown]> = {},
): Promise<sql.IResult<Record<string, unknown>>> {
  const request = new sql.Request(on as sql.ConnectionPool);
  for (const [name, [type, value]] of Object.entries(inputs)) request.input(name, type, value);
  return request.query<Record<string, unknown>>(text);
}

/** Rejects with SQL Server error `number` (and a message matching `message`). */
const failsWith = (number: number, message?: RegExp) => (error: unknown) => {
  assert.equal((error as { number?: unknown }).number, number, String(error));
  if (message) assert.match((error as Error).message, message);
  return true;
};

describe(
  'wire-level contract of the TDS test server with the real mssql/tedious driver',
  { skip: 'skip' in server ? server.skip : false },
  () => {
    let pool: sql.ConnectionPool;
    const created: string[] = [];
    const create = async (name: string, columns: string): Promise<string> => {
      const full = `wire_${name}_${suffix}`;
      created.push(full);
      await run(pool, `CREATE TABLE ${full} (${columns})`);
      return full;
    };
    const first = async (on: sql.ConnectionPool | sql.Transaction, text: string) =>
      (await run(on, text)).recordset[0];

    before(async () => {
      pool = await connect();
    });
    after(async () => {
      for (const name of created) await run(pool, `DROP TABLE IF EXISTS ${name}`);
      await pool.close();
    });

    it('logs in (in clear or over TLS) and answers SELECT 1, @@VERSION and SERVERPROPERTY', async () => {
      // mssql's default is encrypt: true; the server's certificate is self-signed.
      const encrypted = await connect({ options: { encrypt: true, trustServerCertificate: true } });
      try {
        for (const client of [pool, encrypted]) {
          const row = await first(
            client,
            "SELECT 1 AS one, @@VERSION AS v, SERVERPROPERTY('ProductVersion') AS p",
          );
          assert.equal(row?.['one'], 1);
          assert.match(String(row?.['v']), /^Microsoft SQL Server/);
          assert.match(String(row?.['p']), /^\d+\.\d+\.\d+/);
        }
      } finally {
        await encrypted.close();
      }
    });

    it('refuses a wrong password (18456) and an unknown database (4060); mssql says ELOGIN', async () => {
      const { hostname, port, username, password } = new URL(url);
      const user = decodeURIComponent(username);
      const login = async (overrides: { password?: string; database?: string }) => {
        const result = await tdsLogin({
          host: hostname,
          port: Number(port),
          user,
          password: '',
          ...overrides,
        });
        return result.ok ? [] : result.errors.map((error) => [error.number, error.severity]);
      };
      assert.deepEqual(await login({ password: 'wrong-password' }), [[18456, 14]]);
      const unknown = `no_such_database_${suffix}`;
      const refused = await login({ password: decodeURIComponent(password), database: unknown });
      assert.deepEqual(refused, [
        [4060, 11],
        [18456, 14],
      ]);
      await assert.rejects(connect({ password: 'wrong-password' }), (error: sql.ConnectionError) => {
        assert.equal(error.code, 'ELOGIN');
        assert.match(error.message, /Login failed for user/);
        return true;
      });
      await assert.rejects(connect({ database: unknown }), { code: 'ELOGIN' });
    });

    it('round-trips every parameter type through a table, NULLs too, as the JS types mssql gives', async () => {
      const at = new Date('2024-05-01T12:34:56.789Z');
      const cases: Array<[column: string, declared: string, type: SqlType, value: unknown]> = [
        ['i', 'INT', sql.Int, -2147483648],
        ['b', 'BIGINT', sql.BigInt, '9223372036854775807'], // tedious gives bigint as a string
        ['d', 'DECIMAL(38,10)', sql.Decimal(38, 10), -12345.6789],
        ['f', 'BIT', sql.Bit, true],
        ['s', 'NVARCHAR(MAX)', sql.NVarChar(sql.MAX), 'zürich ✓'],
        ['v', 'VARBINARY(MAX)', sql.VarBinary(sql.MAX), Buffer.from([0, 1, 254, 255])],
        ['t', 'DATETIME2', sql.DateTime2, at],
        ['o', 'DATETIMEOFFSET', sql.DateTimeOffset, at],
        ['a', 'VARCHAR(40)', sql.VarChar(40), 'plain text'],
        ['day', 'DATE', sql.Date, new Date('2024-02-29T00:00:00Z')],
        ['x', 'FLOAT', sql.Float, 1.5e-7],
        ['g', 'UNIQUEIDENTIFIER', sql.UniqueIdentifier, '6F9619FF-8B86-D011-B42D-00C04FC964FF'],
      ];
      const columns = cases.map(([column]) => column);
      const declared = cases.map(([column, type]) => `${column} ${type}`).join(', ');
      const name = await create('types', `id INT NOT NULL PRIMARY KEY, ${declared}`);
      for (const id of [1, 2]) {
        const inputs: Record<string, [SqlType, unknown]> = {};
        for (const [column, , type, value] of cases) inputs[column] = [type, id === 1 ? value : null];
        const insert = `INSERT INTO ${name} (id, ${columns.join(', ')}) VALUES (${id}, @${columns.join(', @')})`;
        assert.deepEqual((await run(pool, insert, inputs)).rowsAffected, [1]);
      }
      const result = await run(pool, `SELECT * FROM ${name} ORDER BY id`);
      const [full, empty] = result.recordset;
      for (const [column, , , value] of cases) {
        assert.deepEqual(full?.[column], value, column);
        assert.equal(empty?.[column], null, `${column} is not NULL`);
      }
      const { b, d, t } = result.recordset.columns;
      const types = [b?.type, d?.type, d?.precision, d?.scale, t?.type];
      assert.deepEqual(types, [sql.BigInt, sql.Decimal, 38, 10, sql.DateTime2]);
      // Exact storage: the decimal's digits and bigint arithmetic never went through floating point.
      const exact = `SELECT CAST(d AS NVARCHAR(60)) AS text, b - 1 AS less FROM ${name} WHERE id = 1`;
      assert.deepEqual(await first(pool, exact), { text: '-12345.6789000000', less: '9223372036854775806' });
      // A bare parameter keeps its declared type.
      const bare = await run(pool, 'SELECT @big AS big, @flag AS flag', {
        big: [sql.BigInt, '-9007199254740993'],
        flag: [sql.Bit, false],
      });
      assert.deepEqual(bare.recordset, [{ big: '-9007199254740993', flag: false }]);
    });

    it('keeps 10,000-character Unicode values with emoji, over packets of 512 bytes too', async () => {
      const name = await create('unicode', 'id INT NOT NULL PRIMARY KEY, body NVARCHAR(MAX) NOT NULL');
      const text = 'ünïcødé 😀'.repeat(1000);
      assert.equal(text.length, 10_000); // UTF-16 code units, as SQL Server counts them
      const options = { encrypt: false, trustServerCertificate: true, packetSize: 512 };
      const small = await connect({ options });
      try {
        for (const [id, client] of [pool, small].entries()) {
          const body: [SqlType, unknown] = [sql.NVarChar(sql.MAX), text];
          await run(client, `INSERT INTO ${name} (id, body) VALUES (${id}, @body)`, { body });
          const back = `SELECT body, DATALENGTH(body) AS bytes FROM ${name} WHERE id = ${id}`;
          assert.deepEqual((await run(client, back)).recordset, [{ body: text, bytes: 20_000 }]);
        }
      } finally {
        await small.close();
      }
    });

    it('returns several result sets and rowsAffected from one batch', async () => {
      const name = await create('batch', 'id INT NOT NULL PRIMARY KEY, n INT NOT NULL');
      const result = await run(
        pool,
        `INSERT INTO ${name} (id, n) VALUES (1, 10), (2, 20), (3, 30);
         UPDATE ${name} SET n = n + 1 WHERE id < 3;
         SELECT id, n FROM ${name} ORDER BY id;
         SELECT COUNT(*) AS total, SUM(n) AS sum FROM ${name};`,
      );
      assert.deepEqual(result.rowsAffected, [3, 2, 3, 1]);
      const rows = [11, 21, 30].map((n, index) => ({ id: index + 1, n }));
      assert.deepEqual(result.recordsets, [rows, [{ total: 3, sum: 62 }]]);
      const quiet = await run(pool, `SET NOCOUNT ON; UPDATE ${name} SET n = 0; SET NOCOUNT OFF;`);
      assert.deepEqual(quiet.rowsAffected, [], 'NOCOUNT suppresses the counts');
    });

    it('serves 20 concurrent queries through a pool of 5', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          run(pool, "WAITFOR DELAY '00:00:00.050'; SELECT @i AS i, @@SPID AS spid", { i: [sql.Int, i] }),
        ),
      );
      const rows = results.map((result) => result.recordset[0] as { i: number; spid: number });
      assert.deepEqual(rows.map((row) => row.i).join(), [...Array(20).keys()].join());
      const sessions = new Set(rows.map((row) => row.spid)).size;
      assert.ok(sessions > 1 && sessions <= 5, `${sessions} sessions`);
    });

    it('commits and rolls back sql.Transaction, and rolls back to a savepoint', async () => {
      const name = await create('tx', 'id INT NOT NULL PRIMARY KEY');
      const committed = new sql.Transaction(pool);
      await committed.begin(sql.ISOLATION_LEVEL.READ_COMMITTED);
      await run(committed, `INSERT INTO ${name} (id) VALUES (1)`);
      assert.deepEqual(await first(committed, 'SELECT @@TRANCOUNT AS depth'), { depth: 1 });
      await committed.commit();
      const rolledBack = new sql.Transaction(pool);
      await rolledBack.begin();
      await run(rolledBack, `INSERT INTO ${name} (id) VALUES (2)`);
      await rolledBack.rollback();
      const partial = new sql.Transaction(pool);
      await partial.begin();
      await run(
        partial,
        `INSERT INTO ${name} (id) VALUES (3); SAVE TRANSACTION before_four;
         INSERT INTO ${name} (id) VALUES (4); ROLLBACK TRANSACTION before_four;
         INSERT INTO ${name} (id) VALUES (5);`,
      );
      await partial.commit();
      const ids = (await run(pool, `SELECT id FROM ${name} ORDER BY id`)).recordset.map((row) => row['id']);
      assert.deepEqual(ids, [1, 3, 5]);
    });

    it('keeps a transaction open after an error inside it (XACT_ABORT OFF)', async () => {
      const name = await create('tx_error', 'id INT NOT NULL PRIMARY KEY');
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      await run(transaction, `INSERT INTO ${name} (id) VALUES (1)`);
      await assert.rejects(run(transaction, `INSERT INTO ${name} (id) VALUES (1)`), failsWith(2627));
      await run(transaction, `INSERT INTO ${name} (id) VALUES (2)`);
      await transaction.commit();
      assert.deepEqual(await first(pool, `SELECT COUNT(*) AS n FROM ${name}`), { n: 2 });
    });

    it("makes another connection wait for a transaction's lock: 1222 after LOCK_TIMEOUT, else granted", async () => {
      const name = await create('locks', 'id INT NOT NULL PRIMARY KEY');
      const other = await single();
      try {
        const holder = new sql.Transaction(pool);
        await holder.begin();
        await run(holder, `INSERT INTO ${name} (id) VALUES (1)`);
        const started = Date.now();
        const select = `SELECT COUNT(*) AS n FROM ${name}`;
        const timedOut = failsWith(1222, /Lock request time out period exceeded/);
        await assert.rejects(run(other, `SET LOCK_TIMEOUT 500; ${select}`), timedOut);
        const waited = Date.now() - started;
        assert.ok(waited >= 400, `gave up after ${waited} ms, before the time-out`);
        // Waiting longer: granted once the holder commits, and sees the committed row.
        const waiting = run(other, `SET LOCK_TIMEOUT 10000; ${select}`);
        await sleep(200);
        await holder.commit();
        assert.deepEqual((await waiting).recordset, [{ n: 1 }]);
      } finally {
        await other.close();
      }
    });

    it("cancels WAITFOR DELAY with request.cancel(): mssql's ECANCEL, the connection stays usable", async () => {
      const own = await single();
      try {
        const { spid } = (await first(own, 'SELECT @@SPID AS spid')) ?? {};
        const request = own.request();
        const started = Date.now();
        const pending = request.query("WAITFOR DELAY '00:00:05'; SELECT 1 AS late");
        setTimeout(() => request.cancel(), 200);
        await assert.rejects(pending, { code: 'ECANCEL' });
        assert.ok(Date.now() - started < 3000, `cancel took ${Date.now() - started} ms`);
        const usable = await first(own, 'SELECT @@SPID AS spid, 2 AS two');
        assert.deepEqual(usable, { spid, two: 2 }, 'not the same session');
      } finally {
        await own.close();
      }
    });

    it('contends sp_getapplock between two connections: -1 on time-out, 1 once released', async () => {
      const [one, two] = await Promise.all([single(), single()]);
      const resource = `berth-wire-${suffix}`;
      const call = (client: sql.ConnectionPool, procedure: string, timeoutMs?: number) => {
        const request = client.request().input('Resource', sql.NVarChar(255), resource);
        request.input('LockOwner', sql.VarChar(32), 'Session');
        if (timeoutMs === undefined)
          return request.execute(procedure).then((result) => result.returnValue as unknown);
        request.input('LockMode', sql.VarChar(32), 'Exclusive').input('LockTimeout', sql.Int, timeoutMs);
        return request.execute(procedure).then((result) => result.returnValue as unknown);
      };
      try {
        assert.equal(await call(one, 'sp_getapplock', 0), 0);
        assert.equal(await call(two, 'sp_getapplock', 0), -1);
        const waiting = call(two, 'sp_getapplock', 10_000);
        await sleep(200);
        assert.equal(await call(one, 'sp_releaseapplock'), 0);
        assert.equal(await waiting, 1);
        // The T-SQL form, with the return code in a variable.
        const batch = await run(
          one,
          `DECLARE @r int;
           EXEC @r = sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 0;
           SELECT @r AS result;`,
          { resource: [sql.NVarChar(255), resource] },
        );
        assert.deepEqual(batch.recordset, [{ result: -1 }]);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    it('streams 100,000 rows (request.stream) and honours pause/resume', async () => {
      const digits = await create('digits', 'd INT NOT NULL PRIMARY KEY');
      const big = await create('big', 'n INT NOT NULL PRIMARY KEY, label NVARCHAR(20) NOT NULL');
      await run(pool, `INSERT INTO ${digits} (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)`);
      const joined = ['a', 'b', 'c', 'e', 'f'].map((alias) => `${digits} ${alias}`).join(' CROSS JOIN ');
      const n = 'a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d';
      const filled = await run(pool, `INSERT INTO ${big} (n, label) SELECT ${n}, N'row' FROM ${joined}`);
      assert.deepEqual(filled.rowsAffected, [100_000]);
      const request = pool.request();
      request.stream = true;
      let rows = 0;
      let sum = 0;
      const affected = await new Promise<number[]>((resolve, reject) => {
        request.on('row', (row: { n: number }) => {
          rows++;
          sum += row.n;
          if (rows === 1000) {
            request.pause();
            setTimeout(() => request.resume(), 100);
          }
        });
        request.on('error', reject);
        request.on('done', (result: { rowsAffected: number[] }) => resolve(result.rowsAffected));
        void request.query(`SELECT n, label FROM ${big} ORDER BY n`);
      });
      assert.deepEqual([rows, sum, affected], [100_000, (99_999 * 100_000) / 2, [100_000]]);
    });

    it('maps errors to SQL Server numbers: 2627, 2601, 208, 515, 102', async () => {
      const name = await create(
        'errors',
        'id INT PRIMARY KEY, code NVARCHAR(9) NOT NULL, email NVARCHAR(50)',
      );
      await run(pool, `CREATE UNIQUE INDEX ix_${name}_email ON ${name} (email)`);
      await run(pool, `INSERT INTO ${name} (id, code, email) VALUES (1, N'a', N'a@example.com')`);
      const expect = (text: string, number: number, message: RegExp) =>
        assert.rejects(run(pool, text), failsWith(number, message));
      const insert = `INSERT INTO ${name} (id, code, email) VALUES`;
      await expect(`${insert} (1, N'b', NULL)`, 2627, /Violation of PRIMARY KEY constraint/);
      await expect(
        `${insert} (2, N'b', N'a@example.com')`,
        2601,
        new RegExp(`unique index 'ix_${name}_email'`),
      );
      await expect(`SELECT * FROM no_such_table_${suffix}`, 208, /Invalid object name/);
      await expect(`${insert} (3, NULL, NULL)`, 515, /Cannot insert the value NULL/);
      await expect('SELEC 1', 102, /Incorrect syntax near/);
      assert.deepEqual(await first(pool, 'SELECT 1 AS ok'), { ok: 1 }, 'unusable after the errors');
    });
  },
);

describe('mssql test service (test/servers/launchers/mssql.ts)', () => {
  it('`up` from several processes starts one server; `up` again is idempotent; `down` stops it', async (t) => {
    if (!canProvide('mssql')) {
      t.skip('this machine cannot run the TDS test server (no node:sqlite)');
      return;
    }
    // An instance of its own (state folder and port), so the shared one is left alone.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mssql-service-'));
    const port = await freePort();
    const env = { ...process.env, BERTH_SERVICES_DIR: dir, BERTH_MSSQL_PORT: String(port) };
    const script = fileURLToPath(new URL('../../scripts/services.ts', import.meta.url));
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [script, ...args], { env });
    const login = (password: string) =>
      tdsLogin({ host: '127.0.0.1', port, user: 'sa', password, database: 'berth' });
    try {
      const outputs = await Promise.all([cli('up', 'mssql'), cli('up', 'mssql'), cli('up', 'mssql')]);
      const password = fs.readFileSync(path.join(dir, 'mssql', 'sa.password'), 'utf8').trim();
      const expected = `MSSQL_URL=mssql://sa:${encodeURIComponent(password)}@127.0.0.1:${port}/berth\nBERTH_MSSQL_EMULATED=true\n`;
      for (const { stdout } of outputs) assert.equal(stdout, expected);
      const started = outputs.filter(({ stderr }) => stderr.includes('mssql: starting')).length;
      assert.equal(started, 1, outputs.map(({ stderr }) => stderr).join('\n'));
      assert.deepEqual(await login(password), { ok: true, database: 'berth' });
      const again = await cli('up', 'mssql');
      assert.equal(again.stdout, expected);
      assert.match(again.stderr, /already running/);

      await cli('down', 'mssql');
      assert.equal(fs.existsSync(path.join(dir, 'mssql', 'mssql.pid')), false);
      await assert.rejects(login(password), /ECONNREFUSED|closed/);
    } finally {
      await cli('down').catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
