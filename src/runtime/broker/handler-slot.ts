import { InfraError } from '../../ports/errors.ts';
import { deadlineScheduler, type PendingOperation } from '../guard/deadline-scheduler.ts';

/**
 * One of a batch's concurrent handler lanes. Its AbortController is shared by the lane's
 * attempts and replaced only after it was aborted, so a message does not cost a controller.
 */
export class HandlerSlot {
  #controller = new AbortController();
  #timedOut = false;
  // One scheduled deadline for every attempt of the lane, put back in the list at each start.
  #deadline: PendingOperation | undefined = undefined;
  readonly #timeoutMs: number;
  /** Called by the deadline scheduler when the attempt in progress runs out of time. */
  readonly expire: () => void;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.expire = () => {
      this.#timedOut = true;
      this.#controller.abort(
        new InfraError('timeout', `handler did not finish within ${timeoutMs} ms`, { port: 'broker' }),
      );
    };
  }

  signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** An attempt starts: its deadline runs from now. */
  arm(): void {
    if (this.#deadline === undefined) this.#deadline = deadlineScheduler.add(this.#timeoutMs, this.expire);
    else deadlineScheduler.readd(this.#timeoutMs, this.#deadline);
  }

  /** The attempt ended: its deadline no longer applies. */
  disarm(): void {
    if (this.#deadline !== undefined) deadlineScheduler.remove(this.#deadline);
  }

  /** After an attempt: whether it timed out; an aborted signal is replaced for the next one. */
  reset(): boolean {
    const timedOut = this.#timedOut;
    this.#timedOut = false;
    if (this.#controller.signal.aborted) this.#controller = new AbortController();
    return timedOut;
  }

  stop(reason: unknown): void {
    this.#controller.abort(reason);
  }
}
