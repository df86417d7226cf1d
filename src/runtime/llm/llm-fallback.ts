import type { HealthResult } from '../../ports/component.ts';
import { InfraError, isInfraError, type ErrorReason } from '../../ports/errors.ts';
import type {
  LlmClient,
  LlmEmbedding,
  LlmEmbedOptions,
  LlmRequest,
  LlmResult,
  LlmStream,
} from '../../ports/llm-client.ts';
import { defaultRuntime, type Runtime } from '../runtime.ts';
import { BufferedLlmStream } from './llm-stream-buffer.ts';

export interface LlmFallbackOptions {
  /** Component id; default `llm:fallback`. */
  id?: string;
}

// A provider that is down, throttled or slow may answer elsewhere; a bad request, a refused key or
// a filtered reply would be the same at the next one.
const fallbackReasons: ReadonlySet<ErrorReason> = new Set([
  'unavailable',
  'rate_limited',
  'timeout',
  'circuit_open',
]);

/** Whether the next client of a chain should be asked after `error`. */
export function fallsBack(error: unknown): boolean {
  return isInfraError(error) && fallbackReasons.has(error.reason);
}

/**
 * One `LlmClient` over several, asked in order: the next is tried when one fails with
 * `unavailable`, `rate_limited`, `timeout` or `circuit_open`, never on `validation`,
 * `unauthorized` or a filtered reply. A stream moves on only before its first part. Results
 * name the client that answered (`provider`); health is degraded while the first is not up.
 * Closing the chain closes its clients.
 */
export function createLlmFallback(
  clients: readonly LlmClient[],
  options: LlmFallbackOptions = {},
  runtime: Runtime = defaultRuntime(),
): LlmClient {
  if (!Array.isArray(clients) || clients.length === 0)
    throw new InfraError('config', 'createLlmFallback: needs at least one client', { port: 'llm' });
  return new LlmFallback(Array.from(clients as readonly LlmClient[]), options.id ?? 'llm:fallback', runtime);
}

class LlmFallback implements LlmClient {
  readonly id: string;
  readonly #clients: readonly LlmClient[];
  readonly #runtime: Runtime;
  #closed: Promise<void> | undefined;

  constructor(clients: readonly LlmClient[], id: string, runtime: Runtime) {
    this.#clients = clients;
    this.id = id;
    this.#runtime = runtime;
  }

  generate(request: LlmRequest): Promise<LlmResult> {
    return this.#inOrder('generate', (client) => client.generate(request));
  }

  embed(texts: readonly string[], options?: LlmEmbedOptions): Promise<LlmEmbedding> {
    return this.#inOrder('embed', (client) => client.embed(texts, options));
  }

  stream(request: LlmRequest): LlmStream {
    return new FallbackStream(request, this.#clients, this.#closedError('stream'), (from, error) =>
      this.#movedOn('stream', from, error),
    );
  }

  async health(signal?: AbortSignal): Promise<HealthResult> {
    if (this.#closed) return { status: 'down', error: 'closed' };
    const results = await Promise.all(this.#clients.map((client) => client.health(signal)));
    const details = Object.fromEntries(results.map((result, i) => [this.#clients[i]!.id, result.status]));
    const first = results[0]!;
    if (first.status === 'up') return { status: 'up', details };
    const status = results.some((result) => result.status !== 'down') ? 'degraded' : 'down';
    return { status, details, ...(first.error === undefined ? {} : { error: first.error }) };
  }

  close(): Promise<void> {
    this.#closed ??= Promise.all(this.#clients.map((client) => client.close())).then(() => undefined);
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #inOrder<T>(operation: string, call: (client: LlmClient) => Promise<T>): Promise<T> {
    const closed = this.#closedError(operation);
    if (closed !== undefined) throw closed;
    let failure: unknown;
    for (const client of this.#clients) {
      try {
        return await call(client);
      } catch (error) {
        if (!fallsBack(error)) throw error;
        this.#movedOn(operation, client.id, error);
        failure = error;
      }
    }
    throw failure;
  }

  #movedOn(operation: string, from: string, error: unknown): void {
    const reason = isInfraError(error) ? error.reason : 'internal';
    this.#runtime.logger.info({ component: this.id, operation, from, reason }, 'falling back');
  }

  #closedError(operation: string): InfraError | undefined {
    if (this.#closed === undefined) return undefined;
    return new InfraError('closed', `${this.id} ${operation}: component is closed`, {
      port: 'llm',
      operation,
    });
  }
}

/** The stream of the first client that opens one; the next is asked only before any part arrived. */
class FallbackStream extends BufferedLlmStream {
  constructor(
    request: LlmRequest,
    clients: readonly LlmClient[],
    closed: InfraError | undefined,
    movedOn: (from: string, error: unknown) => void,
  ) {
    super();
    if (closed !== undefined) this.fail(closed);
    else this.#pump(request, clients, movedOn).catch((error: unknown) => this.fail(error));
  }

  protected iteratedTwice(): unknown {
    return new InfraError('validation', 'stream: a stream can be iterated only once', { port: 'llm' });
  }

  async #pump(
    request: LlmRequest,
    clients: readonly LlmClient[],
    movedOn: (from: string, error: unknown) => void,
  ): Promise<void> {
    const signal = request.signal
      ? AbortSignal.any([request.signal, this.cancel.signal])
      : this.cancel.signal;
    let failure: unknown;
    for (const client of clients) {
      const inner = client.stream({ ...request, signal });
      try {
        for await (const part of inner.events()) this.push(part);
        return this.succeed(await inner.result);
      } catch (error) {
        if (this.started || !this.running || !fallsBack(error)) throw error;
        movedOn(client.id, error);
        failure = error;
      }
    }
    throw failure;
  }
}
