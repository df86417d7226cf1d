// What a secure-variant test's adapters show the world, scanned for its secrets (#26): every log
// line (pino's output at trace level), every error the test kept (message, stack, JSON and inspect
// output down its `cause` chain), every span (in memory: name, attributes, events, status), every
// metric (the registry's text: names, labels, values) and every health result kept.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { createLogger, createRuntime, type PolicyOverrides, type Runtime } from '../../src/runtime/index.ts';

/** Secrets by what they are (`the SCRAM password`), so a failure says which leaked, never its value. */
export type Secrets = Readonly<Record<string, string>>;

export interface SecretWatch {
  /** Logs at trace level into memory, metrics on a registry of its own, spans into memory. */
  readonly runtime: Runtime;
  /** Keeps what `value` shows when printed: an error with its causes, a health result, a result. */
  keep(value: unknown): void;
  /** `promise`, what it settles with kept (a failure rethrown). */
  watch<T>(promise: Promise<T>): Promise<T>;
  /** Fails naming each secret found and where (logs, an error, a span, a metric), never its value. */
  assertNoSecrets(secrets: Secrets): Promise<void>;
  /** The log lines so far, for what a test expects to read there. */
  logs(): string;
}

let exporter: InMemorySpanExporter | undefined;

// One SDK per process (a test file runs in its own): berth's spans go through the global API.
function spans(): InMemorySpanExporter {
  if (exporter === undefined) {
    exporter = new InMemorySpanExporter();
    new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
  }
  return exporter;
}

/** Everything an error shows: its text, stack, JSON and inspect output, and each cause's. */
export function shown(value: unknown): string {
  const parts = [inspect(value, { depth: 8, showHidden: true }), safeJson(value)];
  for (let cause: unknown = value, depth = 0; cause instanceof Error && depth < 8; depth++) {
    parts.push(String(cause), cause.stack ?? '', safeJson(cause));
    cause = cause.cause;
  }
  return parts.join('\n');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

const spanText = (span: ReadableSpan): string =>
  safeJson({
    name: span.name,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links.map((link) => link.attributes),
    status: span.status,
  });

export function secretWatch(policies?: PolicyOverrides): SecretWatch {
  const lines: string[] = [];
  const kept: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const exported = spans();
  const runtime = createRuntime({
    logger: createLogger({ level: 'trace' }, sink),
    registry: new Registry(),
    policies: policies ?? {},
  });
  return {
    runtime,
    logs: () => lines.join(''),
    keep: (value) => kept.push(shown(value)),
    async watch(promise) {
      try {
        const value = await promise;
        kept.push(shown(value));
        return value;
      } catch (error) {
        kept.push(shown(error));
        throw error;
      }
    },
    async assertNoSecrets(secrets) {
      const places: [string, string][] = [
        ['the logs', lines.join('')],
        ['an error or result kept', kept.join('\n')],
        ['a span', exported.getFinishedSpans().map(spanText).join('\n')],
        ['a metric', await runtime.registry.metrics()],
      ];
      const found: string[] = [];
      for (const [what, value] of Object.entries(secrets)) {
        assert.ok(value.length >= 8, `${what} is long enough to look for`);
        for (const [where, text] of places) if (text.includes(value)) found.push(`${what} in ${where}`);
      }
      assert.deepEqual(found, [], `secrets showed: ${found.join('; ')}`);
      // A watch whose runtime nothing took proves nothing: an adapter registers its metrics on it.
      assert.ok(lines.length > 0 || places[3]![1].trim() !== '', "nothing used the watch's runtime");
    },
  };
}

/** A private key file's secret text: each line of its base64 body, so a part printed is found too. */
export function privateKeyText(file: string, what = 'the client key'): Secrets {
  const body = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----'));
  assert.ok(body.length > 0, `${file} has a PEM body`);
  return Object.fromEntries(body.map((line, index) => [`${what} (line ${index + 1})`, line]));
}

/** A secure test server's secrets: its password (given, or its URL's) and its client key's text. */
export function serverSecrets(server: {
  readonly url?: string;
  readonly password?: string;
  readonly clientKeyFile: string;
}): Secrets {
  const password =
    server.password ?? (server.url?.includes('://') ? decodeURIComponent(new URL(server.url).password) : '');
  return {
    ...(password === '' ? {} : { 'the password': password }),
    ...privateKeyText(server.clientKeyFile),
  };
}
