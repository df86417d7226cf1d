// MongoDB wire protocol without MongoDB: FerretDB 1.24 with its embedded SQLite backend (pure Go),
// built from the Go module proxy. Its source here is a tiny Go module of our own,
// test/servers/ferretdb/ (main.go, go.mod, go.sum), that embeds FerretDB's `ferretdb` package;
// `go build` puts the binary in the cache folder, never in the repo. FerretDB lacks change
// streams, transactions, `$lookup` and `$facet`: what needs those needs a real MongoDB.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCertificates } from '../certificates.ts';
import { HOST, log, portFromEnv, type ServiceDefinition } from './definition.ts';
import { cacheHome, which } from './machine.ts';

const FERRETDB_VERSION = '1.24.2'; // keep in step with test/servers/ferretdb/go.mod
/** FerretDB 1.24's go.mod says `go 1.24`. */
const MIN_GO = [1, 24] as const;
const SOURCE_DIR = fileURLToPath(new URL('../ferretdb/', import.meta.url));
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go'];
const BINARY_NAME = 'berth-ferretdb';

/** `~/.cache/berth/ferretdb-1.24.2-<hash of our Go sources>/bin/berth-ferretdb`. */
function binaryPath(): string {
  const hash = createHash('sha256');
  for (const file of SOURCE_FILES) {
    try {
      hash.update(fs.readFileSync(path.join(SOURCE_DIR, file)));
    } catch {
      hash.update(`missing ${file}`);
    }
  }
  const tag = hash.digest('hex').slice(0, 12);
  return path.join(cacheHome(), 'berth', `ferretdb-${FERRETDB_VERSION}-${tag}`, 'bin', BINARY_NAME);
}

/** `go version` as [major, minor], else undefined (no go on PATH, or unparsable). */
function goVersion(): [number, number] | undefined {
  if (which('go') === undefined) return undefined;
  const result = spawnSync('go', ['env', 'GOVERSION'], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  const match = /go(\d+)\.(\d+)/.exec(result.stdout ?? '');
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function goIsRecentEnough(version: [number, number] | undefined): boolean {
  return (
    version !== undefined && (version[0] > MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] >= MIN_GO[1]))
  );
}

async function build(): Promise<void> {
  const version = goVersion();
  if (!goIsRecentEnough(version)) {
    throw new Error(
      `mongodb (FerretDB ${FERRETDB_VERSION}) is built with Go >= ${MIN_GO.join('.')}; ` +
        (version ? `this machine has go ${version.join('.')}` : 'no `go` on PATH') +
        ' (install Go from go.dev or a distribution package that is new enough)',
    );
  }
  const output = binaryPath();
  const partial = `${output}.partial-${process.pid}`;
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const args = [
    'build',
    '-trimpath',
    '-buildvcs=false',
    '-mod=readonly',
    '-tags',
    'ferretdb_no_postgresql',
    '-o',
    partial,
    '.',
  ];
  log(`mongodb: $ go ${args.join(' ')} (in ${SOURCE_DIR}; the first build takes a few minutes)`);
  const built = new Promise<void>((resolve, reject) => {
    // Module downloads and build cache stay in Go's own folders (GOMODCACHE, GOCACHE: outside
    // the repo); GOTOOLCHAIN=local: never download another Go toolchain.
    // Asynchronous, so `up` stays responsive; its output goes to our stderr (stdout carries
    // only env lines).
    const child = spawn('go', args, {
      cwd: SOURCE_DIR,
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '', CGO_ENABLED: '0' },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`go build failed (exit ${code}); see the output above`)),
    );
    child.once('error', reject);
  });
  try {
    await built;
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  fs.renameSync(partial, output);
}

export const mongodb: ServiceDefinition = {
  install: {
    describe: `go build of FerretDB ${FERRETDB_VERSION} (test/servers/ferretdb) into ${path.dirname(binaryPath())}`,
    isInstalled: () => fs.existsSync(binaryPath()),
    canInstall: () => goIsRecentEnough(goVersion()),
    install: build,
  },
  port: () => portFromEnv('BERTH_MONGODB_PORT', 27018),
  // Beside the plaintext port, a TLS one that requires a client certificate of the run's CA.
  command: (ctx) => {
    const certificates = runCertificates(ctx.dir);
    return {
      command: binaryPath(),
      args: ['-listen', `${HOST}:${ctx.port}`, '-dir', path.join(ctx.dir, 'data')].concat([
        ...['-listen-tls', `${HOST}:${ctx.port + 1}`, '-tls-ca', certificates.caFile],
        ...['-tls-cert', certificates.serverCertFile, '-tls-key', certificates.serverKeyFile],
      ]),
    };
  },
  answers: async (ctx) => {
    try {
      const reply = await opMsg(HOST, ctx.port, { ping: 1, $db: 'admin' }, 1000);
      return reply['ok'] === 1;
    } catch {
      return false;
    }
  },
  env: (ctx) => {
    const certificates = runCertificates(ctx.dir);
    return {
      MONGODB_URL: `mongodb://${HOST}:${ctx.port}/`,
      // Outside MONGODB_*: beside an app's own MONGODB_URL these would be a second config.
      BERTH_MONGODB_MTLS_URL: `mongodb://${HOST}:${ctx.port + 1}/?tls=true`,
      BERTH_MONGODB_MTLS_CA_FILE: certificates.caFile,
      BERTH_MONGODB_MTLS_CLIENT_CERT_FILE: certificates.clientCertFile,
      BERTH_MONGODB_MTLS_CLIENT_KEY_FILE: certificates.clientKeyFile,
    };
  },
  startTimeoutMs: 30_000,
  processMatch: BINARY_NAME,
};

// ---------------------------------------------------------------------------------------------
// Minimal BSON and OP_MSG, enough for health checks and tests without the `mongodb` driver
// ---------------------------------------------------------------------------------------------

export type BsonValue =
  number | bigint | string | boolean | null | Date | Buffer | BsonDocument | BsonValue[];
export interface BsonDocument {
  [key: string]: BsonValue;
}

/**
 * Encodes a document. Numbers become int32 when they are integers in range, else doubles;
 * bigints become int64. Key order is kept (the command name must come first).
 */
export function encodeBson(doc: BsonDocument): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(doc)) parts.push(encodeElement(key, value));
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out; // last byte is already 0
}

function encodeElement(key: string, value: BsonValue): Buffer {
  const name = Buffer.from(`${key}\0`, 'utf8');
  const typed = (type: number, payload: Buffer) => Buffer.concat([Buffer.from([type]), name, payload]);
  if (value === null) return typed(0x0a, Buffer.alloc(0));
  if (typeof value === 'boolean') return typed(0x08, Buffer.from([value ? 1 : 0]));
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    const payload = Buffer.alloc(4 + text.length + 1);
    payload.writeInt32LE(text.length + 1, 0);
    text.copy(payload, 4);
    return typed(0x02, payload);
  }
  if (typeof value === 'bigint') {
    const payload = Buffer.alloc(8);
    payload.writeBigInt64LE(value);
    return typed(0x12, payload);
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) {
      const payload = Buffer.alloc(4);
      payload.writeInt32LE(value);
      return typed(0x10, payload);
    }
    const payload = Buffer.alloc(8);
    payload.writeDoubleLE(value);
    return typed(0x01, payload);
  }
  if (value instanceof Date) {
    const payload = Buffer.alloc(8);
    payload.writeBigInt64LE(BigInt(value.getTime()));
    return typed(0x09, payload);
  }
  if (Buffer.isBuffer(value)) {
    const payload = Buffer.alloc(5 + value.length);
    payload.writeInt32LE(value.length, 0);
    payload[4] = 0x00; // generic binary subtype
    value.copy(payload, 5);
    return typed(0x05, payload);
  }
  if (Array.isArray(value)) {
    const asDoc: BsonDocument = {};
    value.forEach((item, index) => (asDoc[String(index)] = item));
    return typed(0x04, encodeBson(asDoc));
  }
  return typed(0x03, encodeBson(value));
}

/** Decodes one document; ObjectIds become 24-char hex strings, int64s bigints. */
export function decodeBson(buffer: Buffer, start = 0): BsonDocument {
  const length = buffer.readInt32LE(start);
  const end = start + length - 1;
  const doc: BsonDocument = {};
  let at = start + 4;
  while (at < end) {
    const type = buffer[at++];
    const nameEnd = buffer.indexOf(0, at);
    const key = buffer.toString('utf8', at, nameEnd);
    at = nameEnd + 1;
    switch (type) {
      case 0x01:
        doc[key] = buffer.readDoubleLE(at);
        at += 8;
        break;
      case 0x02: {
        const size = buffer.readInt32LE(at);
        doc[key] = buffer.toString('utf8', at + 4, at + 4 + size - 1);
        at += 4 + size;
        break;
      }
      case 0x03:
      case 0x04: {
        const size = buffer.readInt32LE(at);
        const inner = decodeBson(buffer, at);
        doc[key] = type === 0x04 ? Object.values(inner) : inner;
        at += size;
        break;
      }
      case 0x05: {
        const size = buffer.readInt32LE(at);
        doc[key] = Buffer.from(buffer.subarray(at + 5, at + 5 + size));
        at += 5 + size;
        break;
      }
      case 0x07:
        doc[key] = buffer.toString('hex', at, at + 12);
        at += 12;
        break;
      case 0x08:
        doc[key] = buffer[at] === 1;
        at += 1;
        break;
      case 0x09:
        doc[key] = new Date(Number(buffer.readBigInt64LE(at)));
        at += 8;
        break;
      case 0x0a:
        doc[key] = null;
        break;
      case 0x10:
        doc[key] = buffer.readInt32LE(at);
        at += 4;
        break;
      case 0x11: // timestamp
      case 0x12:
        doc[key] = buffer.readBigInt64LE(at);
        at += 8;
        break;
      default:
        throw new Error(`BSON type 0x${(type ?? 0).toString(16)} (field '${key}') is not supported here`);
    }
  }
  return doc;
}

const OP_MSG = 2013;
let nextRequestId = 1;

/**
 * Sends one command as an OP_MSG (a single kind-0 section; include `$db`) on a fresh
 * connection and resolves the reply document. Rejects on connection errors, a malformed
 * reply, or no reply within `timeoutMs`.
 */
export function opMsg(
  host: string,
  port: number,
  command: BsonDocument,
  timeoutMs = 2000,
): Promise<BsonDocument> {
  return new Promise((resolve, reject) => {
    const body = encodeBson(command);
    const header = Buffer.alloc(16 + 4 + 1);
    const requestId = nextRequestId++;
    header.writeInt32LE(header.length + body.length, 0);
    header.writeInt32LE(requestId, 4);
    header.writeInt32LE(0, 8); // responseTo
    header.writeInt32LE(OP_MSG, 12);
    header.writeUInt32LE(0, 16); // flagBits
    header[20] = 0; // section kind 0: body
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`no OP_MSG reply from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(Buffer.concat([header, body])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < received.readInt32LE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        if (received.readInt32LE(8) !== requestId || received.readInt32LE(12) !== OP_MSG) {
          throw new Error('reply is not an OP_MSG answering our request');
        }
        if (received[20] !== 0) throw new Error(`reply's first section is of kind ${received[20]}, not 0`);
        resolve(decodeBson(received, 21));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`${host}:${port} closed the connection before replying`)));
  });
}
