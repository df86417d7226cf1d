import { AbortableOperation } from './abortable-operation.ts';

/** One in-flight operation with a deadline, in its list's order of start. */
export class PendingOperation extends AbortableOperation {
  prev: PendingOperation | undefined = undefined;
  next: PendingOperation | undefined = undefined;
  list: DeadlineList | undefined = undefined;
  startTick: number;
  readonly onExpire: () => void;

  constructor(startTick: number, onExpire: () => void) {
    super();
    this.startTick = startTick;
    this.onExpire = onExpire;
  }
}

/**
 * Operations that share one timeout expire in the order they started, so one list ordered
 * by start and one ticking timer serve all of them: no clock read and no timer per call.
 * An operation expires between `timeoutMs` and `timeoutMs` plus one tick (at most 10 ms) after
 * it started, plus the lateness of that one timer callback. The tick count is read from the
 * clock at each tick: counted, an interval's lateness added up (measured: 20-26 ms a second on
 * a loaded 2-core machine), and calls settled past the 50 ms that issue #15 allows.
 */
class DeadlineList {
  head: PendingOperation | undefined = undefined;
  tail: PendingOperation | undefined = undefined;
  tick = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  readonly tickMs: number;
  readonly ticksToExpire: number;
  readonly #origin = performance.now();

  constructor(timeoutMs: number) {
    this.tickMs = Math.min(Math.max(Math.ceil(timeoutMs / 10), 1), 10);
    this.ticksToExpire = Math.ceil(timeoutMs / this.tickMs);
  }

  #readClock(): void {
    this.tick = Math.floor((performance.now() - this.#origin) / this.tickMs);
  }

  push(op: PendingOperation): void {
    op.list = this;
    op.prev = this.tail;
    if (this.tail) this.tail.next = op;
    else this.head = op;
    this.tail = op;
    if (this.timer === undefined) {
      // Idle lists do not tick: the count is brought up to date before this operation's start.
      this.#readClock();
      op.startTick = this.tick;
      this.timer = setInterval(() => this.onTick(), this.tickMs);
      this.timer.unref();
    }
  }

  unlink(op: PendingOperation): void {
    if (op.prev) op.prev.next = op.next;
    else this.head = op.next;
    if (op.next) op.next.prev = op.prev;
    else this.tail = op.prev;
    op.prev = op.next = op.list = undefined;
  }

  onTick(): void {
    const previous = this.tick;
    this.#readClock();
    // The loop was blocked (ticks missed): operations added since the last tick took that stale
    // tick as their start, though most began after the block; they start now instead of expiring
    // at once. Those added in the last tick before the block get the block's length on top.
    if (this.tick - previous > 2)
      for (let added = this.tail; added !== undefined && added.startTick === previous; added = added.prev)
        added.startTick = this.tick - 1;
    let op = this.head;
    // A tick counts only once it has fully passed, hence the strict comparison.
    while (op !== undefined && this.tick - op.startTick > this.ticksToExpire) {
      this.unlink(op);
      op.onExpire();
      op = this.head;
    }
    if (this.head === undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

export class DeadlineScheduler {
  readonly #lists = new Map<number, DeadlineList>();

  add(timeoutMs: number, onExpire: () => void): PendingOperation {
    const list = this.#list(timeoutMs);
    const op = new PendingOperation(list.tick, onExpire);
    list.push(op);
    return op;
  }

  /**
   * Schedules again an operation that was removed or has expired, for a caller that runs one
   * attempt after another (a consumer's handler lane): no operation allocated per attempt.
   */
  readd(timeoutMs: number, op: PendingOperation): void {
    if (op.list !== undefined) op.list.unlink(op);
    const list = this.#list(timeoutMs);
    op.startTick = list.tick;
    list.push(op);
  }

  #list(timeoutMs: number): DeadlineList {
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs);
      this.#lists.set(timeoutMs, list);
    }
    return list;
  }

  /** Returns false when the operation had already expired. */
  remove(op: PendingOperation): boolean {
    if (op.list === undefined) return false;
    op.list.unlink(op);
    return true;
  }
}

/** Shared by every guard in the process: one ticking timer per distinct timeout in use. */
export const deadlineScheduler = new DeadlineScheduler();
