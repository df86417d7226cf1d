// A log collector speaking OTLP/HTTP with JSON bodies (POST /v1/logs), as an OpenTelemetry
// Collector's otlp receiver does, that keeps what it received and can be stopped and started
// again on the same port.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One log record as OTLP/JSON spells it (the fields the tests read). */
export interface OtlpLogRecord {
  severityText?: string;
  body?: { stringValue?: string };
  attributes?: { key: string; value: Record<string, unknown> }[];
}

export interface OtlpExportRequest {
  readonly records: readonly OtlpLogRecord[];
  readonly bytes: number;
  readonly serviceName: string | undefined;
}

export interface OtlpCollector {
  /** `http://127.0.0.1:<port>/v1/logs`, the same across restarts. */
  readonly logsUrl: string;
  /** Every export request received, in order, across restarts. */
  readonly requests: readonly OtlpExportRequest[];
  /** Every record received, in order. */
  records(): OtlpLogRecord[];
  /** Closes the listening socket and every open connection: senders get ECONNREFUSED. */
  stop(): Promise<void>;
  /** Listens again on the same port; does nothing while listening. */
  start(): Promise<void>;
}

const maxBodyBytes = 16 * 1024 * 1024;

/** A record's message (the pino `msg`). */
export function messageOf(record: OtlpLogRecord): string | undefined {
  return record.body?.stringValue;
}

/** A record attribute's value, whatever its OTLP type (`stringValue`, `intValue`…). */
export function attributeOf(record: OtlpLogRecord, key: string): unknown {
  const value = record.attributes?.find((attribute) => attribute.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
}

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const requests: OtlpExportRequest[] = [];
  let server: Server | undefined;
  let port = 0;

  const listen = async (): Promise<void> => {
    if (server !== undefined) return;
    const next = createServer((req, res) => {
      receive(req).then(
        (request) => {
          requests.push(request);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        },
        (error: unknown) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
        },
      );
    });
    next.listen(port, '127.0.0.1');
    await once(next, 'listening');
    port = (next.address() as AddressInfo).port;
    server = next;
  };
  await listen();

  return {
    logsUrl: `http://127.0.0.1:${port}/v1/logs`,
    requests,
    records: () => requests.flatMap((request) => request.records),
    stop: async () => {
      const current = server;
      server = undefined;
      if (current === undefined) return;
      const closed = once(current, 'close');
      current.close();
      current.closeAllConnections();
      await closed;
    },
    start: () => listen(),
  };
}

async function receive(req: IncomingMessage): Promise<OtlpExportRequest> {
  if (req.method !== 'POST' || req.url !== '/v1/logs')
    throw new Error(`not an OTLP logs export: ${req.method} ${req.url}`);
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new Error(`expected OTLP/JSON, got ${req.headers['content-type']}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new Error('body too large');
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  const parsed = JSON.parse(body.toString('utf8')) as {
    resourceLogs?: {
      resource?: { attributes?: OtlpLogRecord['attributes'] };
      scopeLogs?: { logRecords?: OtlpLogRecord[] }[];
    }[];
  };
  const resourceLogs = parsed.resourceLogs ?? [];
  const serviceName = attributeOf(
    { attributes: resourceLogs[0]?.resource?.attributes ?? [] },
    'service.name',
  );
  return {
    records: resourceLogs.flatMap((resource) =>
      (resource.scopeLogs ?? []).flatMap((scope) => scope.logRecords ?? []),
    ),
    bytes: body.length,
    serviceName: typeof serviceName === 'string' ? serviceName : undefined,
  };
}
