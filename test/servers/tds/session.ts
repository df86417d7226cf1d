// One client connection: PRELOGIN, LOGIN7, then requests one at a time (SQL batch, RPC,
// transaction manager), each answered by one response message. ATTENTION arrives out of band:
// it cancels the running request (its response ends), then gets its own message, a DONE with
// DONE_ATTN, which is what tedious waits for before it hands the connection back.
import type net from 'node:net';
import type tls from 'node:tls';
import type { Engine } from './engine.ts';
import { fromSqliteError, sqlErrors, TdsError } from './errors.ts';
import { fail, lockDatabase, runBatch } from './executor.ts';
import { parseLogin7, preloginEncryption, preloginResponse, Encryption } from './login.ts';
import { MessageReader, PacketType, ResponseWriter, type Message } from './packets.ts';
import { runProcedure } from './procedures.ts';
import { parseRpc, parseSqlBatch, parseTransactionManager, type RpcParameter } from './rpc.ts';
import { Cancelled, type RunContext, type SessionState, type Variable } from './session-state.ts';
import * as tokens from './tokens.ts';
import { Command, DoneStatus, EnvChange } from './tokens.ts';
import { beginTransaction, commitTransaction, rollbackTransaction, saveTransaction } from './transactions.ts';
import { TlsTransport } from './tls.ts';
import { translateBatch } from './translate.ts';
import { COLLATION } from './wire.ts';

export interface ServerOptions {
  readonly engine: Engine;
  /** Offered to clients that ask for encryption (tedious's `encrypt: true`); none without it. */
  readonly tls: tls.SecureContext | undefined;
  /** Force Encryption: a client that does not ask for TLS gets ENCRYPT_REQ and the connection ends. */
  readonly requireEncryption: boolean;
  readonly user: string;
  readonly password: string;
  readonly lockTimeoutMs: number;
  readonly log: (line: string) => void;
}

const ISOLATION_LEVELS = [
  '',
  'READ UNCOMMITTED',
  'READ COMMITTED',
  'REPEATABLE READ',
  'SERIALIZABLE',
  'SNAPSHOT',
];
let lastSpid = 50;

export class Session {
  private readonly socket: net.Socket;
  private readonly options: ServerOptions;
  private readonly spid = (lastSpid = lastSpid >= 32_000 ? 51 : lastSpid + 1);
  private readonly writer: ResponseWriter;
  private phase: 'prelogin' | 'login' | 'ready' | 'closed' = 'prelogin';
  private state: SessionState | undefined;
  private queue: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private running: AbortController | undefined;
  private attentionPending = false;
  private readonly reader: MessageReader;
  private transport: TlsTransport | undefined;

  constructor(socket: net.Socket, options: ServerOptions) {
    this.socket = socket;
    this.options = options;
    this.writer = new ResponseWriter(() => this.transport?.cleartext ?? this.socket, 4096, this.spid);
    const reader = (this.reader = new MessageReader((message) => this.receive(message)));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        if (this.transport) this.transport.receive(chunk);
        else reader.push(chunk);
      } catch (error) {
        this.options.log(
          `spid ${this.spid}: protocol error: ${error instanceof Error ? error.message : String(error)}`,
        );
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.close());
  }

  private receive(message: Message): void {
    if (message.type === PacketType.ATTENTION) {
      this.attention();
      return;
    }
    this.inFlight++;
    this.queue = this.queue
      .then(() => this.handle(message))
      .catch((error: unknown) => {
        this.options.log(
          `spid ${this.spid}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        this.socket.destroy();
      })
      .finally(() => this.inFlight--);
  }

  private attention(): void {
    if (this.inFlight === 0) {
      this.acknowledgeAttention();
      return;
    }
    this.attentionPending = true;
    this.running?.abort();
  }

  private acknowledgeAttention(): void {
    this.attentionPending = false;
    this.writer.write(tokens.done('done', DoneStatus.ATTENTION, Command.NONE, 0));
    this.writer.end();
  }

  private async handle(message: Message): Promise<void> {
    if (this.phase === 'closed') return;
    if (this.phase === 'prelogin') {
      if (message.type !== PacketType.PRELOGIN)
        throw new Error(`expected PRELOGIN, got message type ${message.type}`);
      // Encrypted only when asked (tedious: `encrypt: true`); `encrypt: false` stays in clear.
      const wanted = preloginEncryption(message.data);
      const encrypt =
        (wanted === Encryption.ON || wanted === Encryption.REQ) && this.options.tls !== undefined;
      if (!encrypt && this.options.requireEncryption) {
        // SQL Server answers REQ to a client that will not encrypt, which the client must refuse.
        this.writer.write(preloginResponse(Encryption.REQ, this.spid));
        this.writer.end();
        this.phase = 'closed';
        this.socket.end();
        return;
      }
      this.writer.write(preloginResponse(encrypt ? Encryption.ON : Encryption.NOT_SUP, this.spid));
      this.writer.end();
      if (encrypt && this.options.tls) {
        this.transport = new TlsTransport(this.socket, this.options.tls, (chunk) => {
          try {
            this.reader.push(chunk);
          } catch {
            this.socket.destroy();
          }
        });
      }
      this.phase = 'login';
      return;
    }
    if (this.phase === 'login') {
      if (message.type !== PacketType.LOGIN7)
        throw new Error(`expected LOGIN7, got message type ${message.type}`);
      this.login(message.data);
      return;
    }
    const state = this.state;
    if (!state) return;
    const controller = new AbortController();
    this.running = controller;
    if (this.attentionPending) controller.abort();
    const ctx = (doneKind: 'done' | 'doneInProc', variables = new Map<string, Variable>()): RunContext => ({
      state,
      writer: this.writer,
      signal: controller.signal,
      variables,
      doneKind,
    });
    try {
      if (message.resetConnection) this.reset(state);
      if (message.ignored) {
        this.writer.write(tokens.done('done', DoneStatus.FINAL, Command.NONE, 0));
      } else if (message.type === PacketType.SQL_BATCH) {
        await this.batch(parseSqlBatch(message.data), ctx('done'));
      } else if (message.type === PacketType.RPC) {
        await this.rpc(message.data, ctx);
      } else if (message.type === PacketType.TRANSACTION_MANAGER) {
        await this.transactionManager(message.data, ctx('done'));
      } else {
        await fail(sqlErrors.unsupported(`TDS message type ${message.type}`), ctx('done'));
      }
      this.writer.end();
    } catch (error) {
      if (!(error instanceof Cancelled)) throw error;
      this.writer.write(tokens.done('done', DoneStatus.FINAL, Command.NONE, 0));
      this.writer.end();
    } finally {
      this.running = undefined;
      if (controller.signal.aborted || this.attentionPending) this.acknowledgeAttention();
    }
  }

  private login(data: Buffer): void {
    const login = parseLogin7(data);
    const { engine } = this.options;
    const refuse = (...errors: TdsError[]): void => {
      this.options.log(
        `spid ${this.spid}: login refused for '${login.user}' (${errors.map((e) => e.number).join(', ')})`,
      );
      for (const error of errors) this.writer.write(tokens.error(error));
      this.writer.write(tokens.done('done', DoneStatus.ERROR, Command.NONE, 0));
      this.writer.end();
      this.phase = 'closed';
      this.socket.end();
    };
    if (
      login.integratedSecurity ||
      login.user !== this.options.user ||
      login.password !== this.options.password
    ) {
      refuse(sqlErrors.loginFailed(login.user));
      return;
    }
    let database = engine.open(login.database || 'master');
    if (!database) {
      if (login.initDbFatal) {
        refuse(sqlErrors.cannotOpenDatabase(login.database), sqlErrors.loginFailed(login.user));
        return;
      }
      database = engine.open('master');
      if (!database) throw new Error('master database missing');
    }
    this.state = {
      spid: this.spid,
      engine,
      database,
      user: login.user,
      nocount: false,
      lockTimeoutMs: this.options.lockTimeoutMs,
      xactAbort: false,
      isolation: 'READ COMMITTED',
      transaction: undefined,
      scopeIdentity: null,
      rowcount: 0,
    };
    const packetSize = Math.min(32_767, Math.max(512, login.packetSize || 4096));
    this.writer.write(tokens.envChangeText(EnvChange.DATABASE, database.name, 'master'));
    this.writer.write(tokens.info(5701, `Changed database context to '${database.name}'.`));
    this.writer.write(tokens.envChangeBinary(EnvChange.SQL_COLLATION, COLLATION, Buffer.alloc(0)));
    this.writer.write(tokens.envChangeText(EnvChange.LANGUAGE, 'us_english', ''));
    this.writer.write(tokens.info(5703, 'Changed language setting to us_english.'));
    this.writer.write(tokens.loginAck());
    this.writer.write(tokens.envChangeText(EnvChange.PACKET_SIZE, String(packetSize), '4096'));
    this.writer.write(tokens.done('done', DoneStatus.FINAL, Command.NONE, 0));
    this.writer.end();
    this.writer.setPacketSize(packetSize);
    this.phase = 'ready';
    this.options.log(
      `spid ${this.spid}: '${login.user}' logged in to ${database.name} (${login.appName || 'no app name'})`,
    );
  }

  /** sp_reset_connection: the pool lends the connection to someone else. */
  private reset(state: SessionState): void {
    if (state.transaction) rollbackTransaction(state, undefined, '');
    state.nocount = false;
    state.xactAbort = false;
    state.lockTimeoutMs = this.options.lockTimeoutMs;
    state.isolation = 'READ COMMITTED';
    this.writer.write(tokens.envChangeBinary(EnvChange.RESET_CONNECTION, Buffer.alloc(0), Buffer.alloc(0)));
  }

  private async batch(sql: string, ctx: RunContext): Promise<void> {
    let statements;
    try {
      statements = translateBatch(sql);
    } catch (error) {
      await fail(error instanceof TdsError ? error : fromSqliteError(error, noContext), ctx);
      return;
    }
    if (statements.length === 0) ctx.writer.write(tokens.done('done', DoneStatus.FINAL, Command.NONE, 0));
    else await runBatch(statements, ctx);
  }

  private async rpc(
    data: Buffer,
    ctx: (kind: 'done' | 'doneInProc', variables?: Map<string, Variable>) => RunContext,
  ) {
    const call = parseRpc(data);
    const procedure = call.procedure.toLowerCase();
    const inProc = ctx('doneInProc');
    let ok = false;
    let status = 0;
    try {
      if (procedure === '#10' || procedure === 'sp_executesql') {
        const [statement, , ...values] = call.parameters;
        const variables = new Map<string, Variable>(
          values.map((p) => [p.name.toLowerCase(), { type: p.type, value: p.value }]),
        );
        const run = ctx('doneInProc', variables);
        ok = await runBatch(translateBatch(String(statement?.value ?? '')), run);
        if (ok) this.returnValues(call.parameters, variables);
      } else if (procedure.startsWith('#')) {
        throw sqlErrors.unsupported(`special procedure ${procedure} (prepared statements)`);
      } else {
        const args = call.parameters.map((p) => ({
          name: p.name ? p.name.toLowerCase() : undefined,
          value: p.value,
        }));
        status = await runProcedure(call.procedure, args, inProc);
        ok = true;
      }
    } catch (error) {
      if (error instanceof Cancelled) throw error;
      await fail(error instanceof TdsError ? error : fromSqliteError(error, noContext), inProc);
    }
    if (ok) this.writer.write(tokens.returnStatus(status));
    this.writer.write(tokens.done('doneProc', ok ? DoneStatus.FINAL : DoneStatus.ERROR, Command.NONE, 0));
  }

  /** RETURNVALUE for each OUTPUT parameter, with its value at the end of the batch. */
  private returnValues(parameters: readonly RpcParameter[], variables: Map<string, Variable>): void {
    parameters.forEach((parameter, ordinal) => {
      if (!parameter.output) return;
      const variable = variables.get(parameter.name.toLowerCase());
      this.writer.write(tokens.returnValue(ordinal, parameter.name, parameter.type, variable?.value ?? null));
    });
  }

  private async transactionManager(data: Buffer, ctx: RunContext): Promise<void> {
    const request = parseTransactionManager(data);
    const state = ctx.state;
    try {
      switch (request.kind) {
        case 'begin':
          if (request.isolation > 0) state.isolation = ISOLATION_LEVELS[request.isolation] ?? state.isolation;
          beginTransaction(state, this.writer, request.name);
          break;
        case 'commit':
          commitTransaction(state, this.writer);
          break;
        case 'rollback':
          rollbackTransaction(state, this.writer, request.name);
          break;
        case 'save':
          await saveTransaction(state, request.name, () => lockDatabase(ctx));
          break;
        default:
          throw sqlErrors.unsupported(
            `transaction manager request ${request.type} (distributed transactions)`,
          );
      }
      this.writer.write(tokens.done('done', DoneStatus.FINAL, Command.NONE, 0));
    } catch (error) {
      if (error instanceof Cancelled) throw error;
      await fail(error, ctx);
    }
  }

  private close(): void {
    if (this.phase === 'closed' && !this.state) return;
    this.phase = 'closed';
    this.running?.abort();
    this.transport?.destroy();
    const state = this.state;
    this.state = undefined;
    // After the running request has stopped: it may still hold a statement of the shared database.
    void this.queue.then(() => {
      if (!state) return;
      if (state.transaction) rollbackTransaction(state, undefined, '');
      state.engine.locks.releaseOwner(state);
      this.options.log(`spid ${this.spid}: closed`);
    });
  }
}

const noContext = { database: '', verb: 'select', uniqueIndexes: () => [] };
