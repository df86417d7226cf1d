import type { LlmResult, LlmStream, LlmStreamPart } from '../../ports/llm-client.ts';

const noop = (): void => undefined;

/**
 * What every stream of the port shares: parts kept for one iteration (text alone, or every
 * part through `events()`), and `result`, which settles with the whole reply or the failure.
 * A subclass produces with `push`, `succeed` and `fail`; a consumer that stops early calls
 * `fail` with an AbortError, which the subclass sees through its cancel signal.
 */
export abstract class BufferedLlmStream implements LlmStream {
  readonly result: Promise<LlmResult>;
  /** Aborted when the stream fails or its consumer stops reading. */
  protected readonly cancel = new AbortController();
  readonly #parts: LlmStreamPart[] = [];
  #state: 'running' | 'done' | 'failed' = 'running';
  #failure: unknown = undefined;
  #wake: (() => void) | undefined = undefined;
  #iterated = false;
  #resolve: (result: LlmResult) => void = noop;
  #reject: (error: unknown) => void = noop;

  constructor() {
    this.result = new Promise<LlmResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The iteration throws the same failure; a result nobody reads must not crash the process.
    this.result.catch(noop);
  }

  /** The error for iterating twice, as the subclass's component words it. */
  protected abstract iteratedTwice(): unknown;

  get running(): boolean {
    return this.#state === 'running';
  }

  /** Whether any part was produced: a call is not repeated once its consumer may have acted on one. */
  get started(): boolean {
    return this.#parts.length > 0;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    for await (const part of this.events()) if (part.type === 'text') yield part.text;
  }

  async *events(): AsyncGenerator<LlmStreamPart, void, undefined> {
    if (this.#iterated) throw this.iteratedTwice();
    this.#iterated = true;
    let index = 0;
    try {
      for (;;) {
        if (index < this.#parts.length) {
          yield this.#parts[index++]!;
          continue;
        }
        if (this.#state === 'failed') throw this.#failure;
        if (this.#state === 'done') return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      if (this.#state === 'running')
        this.fail(new DOMException('The stream was cancelled by its consumer', 'AbortError'));
    }
  }

  protected push(part: LlmStreamPart): void {
    this.#parts.push(part);
    this.#notify();
  }

  protected succeed(result: LlmResult): void {
    if (this.#state !== 'running') return;
    this.#state = 'done';
    this.#resolve(result);
    this.#notify();
  }

  protected fail(error: unknown): void {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#failure = error;
    this.cancel.abort(error);
    this.#reject(error);
    this.#notify();
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = undefined;
    waiting?.();
  }
}
