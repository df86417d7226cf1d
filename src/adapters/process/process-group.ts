import { readdir, readFile } from 'node:fs/promises';

/** Sends a signal to every process of a group; false when the group has no process left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // EPERM: a member we may not signal (e.g. setuid) still exists.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether a process of the group is still running. Zombies answer `kill(0)` until their
 * parent reaps them, and an orphan's new parent may never do so (PID 1 of some containers),
 * so on Linux /proc decides.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  const entries = await readdir('/proc').catch(() => undefined);
  if (entries === undefined) return true;
  const states = await Promise.all(
    entries
      .filter((entry) => entry.charCodeAt(0) >= 48 && entry.charCodeAt(0) <= 57)
      .map((pid) => readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '')),
  );
  for (const stat of states) {
    // Fields after the command name, which may itself hold spaces and parentheses: state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === String(pgid) && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

// Signals whose default action ends the parent; its children would outlive it in their own groups.
const fatalSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Running groups of every process executor in this process, with the signals each forwards. */
const running = new Map<number, ReadonlySet<NodeJS.Signals>>();
const listeners = new Map<NodeJS.Signals, () => void>();
// Marks our listeners, so that two copies of berth in one process do not count each other as the application.
const listenerMarker = Symbol.for('berth.processGroupListener');

function onParentExit(): void {
  // Synchronous and last: nothing else can reap these groups once this process is gone.
  for (const pgid of running.keys()) signalGroup(pgid, 'SIGKILL');
}

function onParentSignal(signal: NodeJS.Signals): void {
  // No listener of the application: every signal listened to here ends a process by default, so it still does.
  const fatal = process.listeners(signal).every((listener) => listenerMarker in listener);
  for (const [pgid, forwarded] of running) {
    if (fatal || forwarded.has(signal)) signalGroup(pgid, signal);
  }
  if (fatal) {
    removeListeners();
    process.kill(process.pid, signal);
  }
}

function addListeners(signals: Iterable<NodeJS.Signals>): void {
  if (!process.listeners('exit').includes(onParentExit)) process.on('exit', onParentExit);
  for (const signal of signals) {
    if (listeners.has(signal)) continue;
    const listener = Object.assign((): void => onParentSignal(signal), { [listenerMarker]: true });
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
}

function removeListeners(): void {
  process.off('exit', onParentExit);
  for (const [signal, listener] of listeners) process.off(signal, listener);
  listeners.clear();
}

/**
 * Watches a running group until `untrack`: it gets SIGKILL if this process exits, the
 * parent's fatal signals when no handler of the application takes them, and `forwarded`
 * signals always. Listeners are installed only while some group runs.
 */
export function track(pgid: number, forwarded: ReadonlySet<NodeJS.Signals>): void {
  running.set(pgid, forwarded);
  addListeners([...fatalSignals, ...forwarded]);
}

export function untrack(pgid: number): void {
  running.delete(pgid);
  if (running.size === 0) removeListeners();
}
