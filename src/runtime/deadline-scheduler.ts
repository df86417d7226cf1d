import type { OperationContext } from '../ports/component.ts';

/**
 * One in-flight operation with a deadline. Its AbortController is created only when the
 * adapter reads `signal`, because most drivers never look at it on the happy path.
 */
export class PendingOperation implements OperationContext {
  prev: PendingOperation | undefined = undefined;
  next: PendingOperation | undefined = undefined;
  list: DeadlineList | undefined = undefined;
  readonly deadline: number;
  readonly onExpire: () => void;
  #controller: AbortController | undefined = undefined;

  constructor(deadline: number, onExpire: () => void) {
    this.deadline = deadline;
    this.onExpire = onExpire;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }
}

/**
 * Operations that share one timeout expire in the order they started, so a linked list
 * ordered by start time needs a single timer for all of them: adding and removing cost
 * O(1) and no timer is created per call.
 */
class DeadlineList {
  head: PendingOperation | undefined = undefined;
  tail: PendingOperation | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  timerAt = 0;
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  push(op: PendingOperation): void {
    op.list = this;
    op.prev = this.tail;
    if (this.tail) this.tail.next = op;
    else this.head = op;
    this.tail = op;
    if (this.timer === undefined) this.arm(op.deadline);
  }

  unlink(op: PendingOperation): void {
    if (op.prev) op.prev.next = op.next;
    else this.head = op.next;
    if (op.next) op.next.prev = op.prev;
    else this.tail = op.prev;
    op.prev = op.next = op.list = undefined;
  }

  arm(at: number): void {
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  fire(): void {
    this.timer = undefined;
    const now = performance.now();
    let op = this.head;
    while (op !== undefined && op.deadline <= now) {
      this.unlink(op);
      op.onExpire();
      op = this.head;
    }
    if (op !== undefined) this.arm(op.deadline);
  }
}

export class DeadlineScheduler {
  readonly #lists = new Map<number, DeadlineList>();

  add(timeoutMs: number, onExpire: () => void): PendingOperation {
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs);
      this.#lists.set(timeoutMs, list);
    }
    const op = new PendingOperation(performance.now() + timeoutMs, onExpire);
    list.push(op);
    return op;
  }

  /** Returns false when the operation had already expired. */
  remove(op: PendingOperation): boolean {
    if (op.list === undefined) return false;
    op.list.unlink(op);
    return true;
  }
}

/** Shared by every guard in the process: one timer per distinct timeout value. */
export const deadlineScheduler = new DeadlineScheduler();
