import { randomUUID } from 'node:crypto';
import type { BrokerRecord, OutgoingMessage, PayloadEncoding } from '../../ports/broker.ts';
import {
  describeIssues,
  type ErrorReason,
  type InfraError,
  type InfraErrorOptions,
} from '../../ports/errors.ts';
import type { StandardSchemaV1 } from '../../ports/standard-schema.ts';
import { schemaIssues } from '../options/validate.ts';
import { brokerHeaders } from './headers.ts';
import { toJson } from '../json-codec.ts';

// toString() without arguments is UTF-8 and skips Node's encoding lookup.
function utf8(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes)
    ? bytes.toString()
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString();
}

/** A delivered payload as the handler sees it; throws on a JSON payload that does not parse. */
export function decodePayload(bytes: Uint8Array, encoding: PayloadEncoding): unknown {
  return encoding === 'bytes' ? bytes : (JSON.parse(utf8(bytes)) as unknown);
}

/** How the encoder reports a bad message: a broker's guard, or the outbox's errors. */
export interface MessageErrors {
  invalid(operation: string, path: string, message: string, options?: InfraErrorOptions): InfraError;
  error(reason: ErrorReason, operation: string, message: string): InfraError;
}

/**
 * Turns outgoing messages into backend records and checks values against schemas, both before
 * any I/O, so a message the backend would refuse fails alone and at once.
 */
export class BrokerMessageEncoder {
  readonly #guard: MessageErrors;
  readonly #maxRecordBytes: number;
  readonly #unserializable: (cause?: unknown) => Error;

  constructor(guard: MessageErrors, maxRecordBytes: number) {
    this.#guard = guard;
    this.#maxRecordBytes = maxRecordBytes;
    this.#unserializable = (cause) =>
      guard.invalid('publish', 'value', 'is not serializable as JSON', { cause });
  }

  // Synchronous: an async function per message costs a promise each on the publish path.
  encode<T>(
    operation: string,
    message: OutgoingMessage<T>,
    value: unknown,
    encoding: PayloadEncoding,
  ): BrokerRecord {
    const guard = this.#guard;
    if (typeof message !== 'object' || message === null)
      throw guard.invalid(operation, 'message', 'must be an object');
    if (message.key !== undefined && typeof message.key !== 'string')
      throw guard.invalid(operation, 'key', 'must be a string');
    if (message.id !== undefined && (typeof message.id !== 'string' || message.id.length === 0)) {
      throw guard.invalid(operation, 'id', 'must be a non-empty string');
    }
    const headers: Record<string, string> = {};
    let headerBytes = 0;
    if (message.headers !== undefined) {
      for (const name in message.headers) {
        const header = message.headers[name];
        if (typeof header !== 'string') throw guard.invalid(operation, `headers.${name}`, 'must be a string');
        headers[name] = header;
        headerBytes += name.length + Buffer.byteLength(header);
      }
    }
    const id = message.id ?? randomUUID();
    headers[brokerHeaders.id] = id;
    headerBytes += brokerHeaders.id.length + Buffer.byteLength(id);
    let bytes: Uint8Array;
    if (encoding === 'bytes') {
      if (!(value instanceof Uint8Array))
        throw guard.invalid(operation, 'value', 'must be a Uint8Array with encoding "bytes"');
      bytes = value;
    } else {
      bytes = Buffer.from(toJson(value, this.#unserializable));
    }
    const size =
      bytes.byteLength + (message.key === undefined ? 0 : Buffer.byteLength(message.key)) + headerBytes;
    if (size > this.#maxRecordBytes) {
      throw guard.invalid(
        operation,
        'message',
        `is ${size} bytes, over the limit of ${this.#maxRecordBytes}`,
      );
    }
    return { key: message.key, value: bytes, headers };
  }

  async validate<T>(operation: string, schema: StandardSchemaV1<unknown, T>, value: unknown): Promise<T> {
    const result = await schema['~standard'].validate(value);
    if (result.issues === undefined) return result.value;
    const issues = schemaIssues(result.issues.slice(0, 5), 'value');
    throw this.#guard.error('validation', operation, describeIssues(issues));
  }
}
