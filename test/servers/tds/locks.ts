// Named locks with shared/exclusive modes, FIFO waiters, time-outs and cancellation, waited for
// asynchronously (never by blocking the event loop). The engine uses one per database (the
// writer lock a transaction holds until it ends) and the application locks of sp_getapplock.

export type LockMode = 'shared' | 'exclusive';
/** 'granted' at once, 'waited' then granted, or not granted. */
export type LockResult = 'granted' | 'waited' | 'timeout' | 'cancelled';

interface Holder {
  readonly owner: object;
  mode: LockMode;
  count: number;
}

interface Waiter {
  readonly owner: object;
  readonly mode: LockMode;
  readonly done: (result: LockResult) => void;
}

interface Resource {
  readonly holders: Holder[];
  readonly waiters: Waiter[];
}

export class LockTable {
  private readonly resources = new Map<string, Resource>();

  /** Takes the lock (again: holds are counted), waiting up to `timeoutMs` (-1: for ever). */
  acquire(
    resource: string,
    owner: object,
    mode: LockMode,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<LockResult> {
    const entry = this.entry(resource);
    if (entry.waiters.length === 0 && this.grantable(entry, owner, mode)) {
      this.grant(entry, owner, mode);
      return Promise.resolve('granted');
    }
    if (timeoutMs === 0) return Promise.resolve('timeout');
    if (signal?.aborted) return Promise.resolve('cancelled');
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (result: LockResult): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = entry.waiters.indexOf(waiter);
        if (index >= 0) entry.waiters.splice(index, 1);
        resolve(result);
        // A waiter leaving the head of the queue may let the ones behind it in.
        if (result !== 'waited') this.wake(resource, entry);
      };
      const onAbort = (): void => finish('cancelled');
      const waiter: Waiter = { owner, mode, done: finish };
      entry.waiters.push(waiter);
      if (timeoutMs > 0) timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  holds(resource: string, owner: object): boolean {
    return this.resources.get(resource)?.holders.some((holder) => holder.owner === owner) ?? false;
  }

  /** Gives up one hold (or all of them); false when `owner` held none. */
  release(resource: string, owner: object, all = false): boolean {
    const entry = this.resources.get(resource);
    const holder = entry?.holders.find((candidate) => candidate.owner === owner);
    if (!entry || !holder) return false;
    holder.count = all ? 0 : holder.count - 1;
    if (holder.count <= 0) entry.holders.splice(entry.holders.indexOf(holder), 1);
    this.wake(resource, entry);
    return true;
  }

  /** Releases everything `owner` holds and drops its waits (a session that ends). */
  releaseOwner(owner: object): void {
    for (const [resource, entry] of [...this.resources]) {
      for (const waiter of entry.waiters.filter((candidate) => candidate.owner === owner))
        waiter.done('cancelled');
      if (entry.holders.some((holder) => holder.owner === owner)) this.release(resource, owner, true);
    }
  }

  private entry(resource: string): Resource {
    let entry = this.resources.get(resource);
    if (!entry) {
      entry = { holders: [], waiters: [] };
      this.resources.set(resource, entry);
    }
    return entry;
  }

  private grantable(entry: Resource, owner: object, mode: LockMode): boolean {
    return entry.holders.every(
      (holder) => holder.owner === owner || (mode === 'shared' && holder.mode === 'shared'),
    );
  }

  private grant(entry: Resource, owner: object, mode: LockMode): void {
    const holder = entry.holders.find((candidate) => candidate.owner === owner);
    if (holder) {
      holder.count++;
      if (mode === 'exclusive') holder.mode = 'exclusive';
    } else {
      entry.holders.push({ owner, mode, count: 1 });
    }
  }

  private wake(resource: string, entry: Resource): void {
    for (;;) {
      const next = entry.waiters[0];
      if (!next || !this.grantable(entry, next.owner, next.mode)) break;
      entry.waiters.shift();
      this.grant(entry, next.owner, next.mode);
      next.done('waited');
    }
    if (entry.holders.length === 0 && entry.waiters.length === 0) this.resources.delete(resource);
  }
}
