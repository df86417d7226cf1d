import type { OperationContext } from '../../ports/component.ts';
import {
  CommandFailedError,
  type ExecutorAdapter,
  type ExecutorOperation,
  type ExitResult,
  type StartedCommand,
} from '../../ports/executor.ts';
import { ConcurrencyLimit } from '../guard/concurrency-limit.ts';
import type { Guard } from '../guard/guard.ts';
import { attributes } from '../telemetry/semconv.ts';
import { describeExit, outcomeOf } from './command-output.ts';
import { Supervision } from './command-supervision.ts';
import type { PreparedCall } from './prepared-call.ts';

// Longer timers overflow to 1 ms in Node.
const maxTimerMs = 2_147_483_647;
// Guard's deadline lies past the command's own timeout and SIGKILL, so guard abandons only a
// process that even SIGKILL does not end; the command's timeout is the deadline that kills.
const guardSlackMs = 1_000;
const noop = (): undefined => undefined;

/** What a command's body gets once its process has started. */
export type CommandBody<R> = (child: StartedCommand, supervision: Supervision, started: number) => Promise<R>;

/**
 * The way every command goes, `run` or `spawn`: a slot of the concurrency limit (waiting does
 * not count toward the deadline), then guard around the start, the supervision of the process
 * group, and the wait for it to end. The slot stays taken until the process tree is gone.
 */
export class CommandRunner {
  readonly guard: Guard<ExecutorOperation>;
  readonly #adapter: ExecutorAdapter;
  readonly #limit: ConcurrencyLimit;
  readonly #supervisions = new Set<Supervision>();
  readonly #attempts = new Set<Promise<unknown>>();

  constructor(
    guard: Guard<ExecutorOperation>,
    adapter: ExecutorAdapter,
    concurrency: number,
    maxQueued: number,
  ) {
    this.guard = guard;
    this.#adapter = adapter;
    this.#limit = new ConcurrencyLimit(concurrency, maxQueued);
  }

  /** For health details. */
  get status(): { running: number; queued: number } {
    return { running: this.#limit.running, queued: this.#limit.queued };
  }

  /** Runs `body` on the started command of `call`, within a slot and through guard. */
  async execute<R extends ExitResult>(call: PreparedCall, body: CommandBody<R>): Promise<R> {
    const { guard } = this;
    await this.#slot(call);
    // Set by guard when it calls the adapter, which it skips when closed, open or aborted.
    const started: { attempt?: Promise<R> } = {};
    const guardTimeoutMs = Number.isFinite(call.timeoutMs)
      ? Math.min(call.timeoutMs + call.request.killGraceMs + guardSlackMs, maxTimerMs)
      : maxTimerMs;
    const result = guard.run(
      call.operation,
      { timeoutMs: guardTimeoutMs, ...(call.signal === undefined ? {} : { signal: call.signal }) },
      (ctx) => {
        const attempt = this.#supervised(call, ctx, body);
        started.attempt = attempt;
        this.#attempts.add(attempt);
        return attempt;
      },
      this.#failIfRejecting<R>(call),
      (value) => ({ [attributes.processExecutableName]: call.name, [attributes.outcome]: outcomeOf(value) }),
    );
    const release = (): void => {
      if (started.attempt !== undefined) this.#attempts.delete(started.attempt);
      this.#limit.release();
    };
    void (started.attempt ?? result).then(release, release);
    try {
      return await result;
    } catch (error) {
      // Guard rejects on the caller's abort at once; the call settles once the process tree is gone.
      if (call.signal?.aborted) await started.attempt?.catch(noop);
      throw error;
    }
  }

  /** Cuts every command, refuses those queued, and waits for the process trees to be gone. */
  async terminateAll(): Promise<void> {
    this.#limit.rejectQueued(this.guard.error('closed', 'close', 'component is closed'));
    for (const supervision of this.#supervisions) supervision.terminate('closed');
    await Promise.allSettled([...this.#attempts]);
  }

  async #slot(call: PreparedCall): Promise<void> {
    const { guard } = this;
    if (guard.closed) throw guard.error('closed', call.operation, 'component is closed');
    const slot = this.#limit.acquire(call.signal);
    if (slot === undefined) {
      throw guard.error(
        'rate_limited',
        call.operation,
        `${this.#limit.maxQueued} commands are already queued`,
      );
    }
    try {
      await slot;
    } catch (error) {
      if (guard.closed) throw guard.error('closed', call.operation, 'component is closed');
      throw error;
    }
  }

  async #supervised<R>(call: PreparedCall, ctx: OperationContext, body: CommandBody<R>): Promise<R> {
    const child = await this.#adapter.start(call.request, ctx);
    const started = performance.now();
    const supervision = new Supervision(child, call.timeoutMs, ctx, this.guard.closed);
    this.#supervisions.add(supervision);
    this.guard.logger.debug(
      { operation: call.operation, command: call.name, pid: child.pid },
      'command started',
    );
    try {
      const result = await body(child, supervision, started);
      this.#throwIfCut(call, supervision, ctx);
      return result;
    } finally {
      supervision.dispose();
      this.#supervisions.delete(supervision);
    }
  }

  // Throws when the command was cut short; what it produced until then is not a result.
  #throwIfCut(call: PreparedCall, supervision: Supervision, ctx: OperationContext): void {
    const { guard } = this;
    if (supervision.cut === 'timeout') {
      throw guard.error('timeout', call.operation, `${call.name} timed out after ${call.timeoutMs} ms`);
    }
    if (supervision.cut === 'closed') {
      throw guard.error('closed', call.operation, `${call.name} was terminated: the executor closed`);
    }
    if (supervision.cut === 'aborted') throw ctx.signal.reason;
  }

  // `reject: true` fails after guard recorded the outcome: a non-zero exit is a result, not a failure of the backend.
  #failIfRejecting<R extends ExitResult>(call: PreparedCall): ((result: R) => R) | undefined {
    if (!call.reject) return undefined;
    return (result) => {
      if (result.exitCode === 0) return result;
      const message = `${call.name} ${describeExit(result)}`;
      throw this.guard.error('internal', call.operation, message, {
        retryable: false,
        cause: new CommandFailedError(message, result),
      });
    };
  }
}
