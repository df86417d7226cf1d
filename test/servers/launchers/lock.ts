// The lock of a state folder, so `up` is safe from several processes at once: a directory
// created atomically with mkdir, holding the owner's pid.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log, type ServiceContext } from './definition.ts';
import { isAlive } from './processes.ts';

const LOCK_WAIT_MS = 10 * 60_000; // long enough for an apt-get install on a slow machine

/** Waits for the lock; resolves the function that releases it. */
export async function acquireLock(ctx: ServiceContext): Promise<() => void> {
  const lockDir = path.join(ctx.dir, 'lock');
  const ownerFile = path.join(lockDir, 'owner');
  const me = `${process.pid}`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    if (tryLock(lockDir, ownerFile, me)) return () => release(ownerFile, lockDir, me);
    if (lockIsStale(lockDir, ownerFile)) {
      moveStaleLockAside(lockDir);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${ctx.name}: waited ${LOCK_WAIT_MS / 1000} s for the lock ${lockDir}; remove it if stale`,
      );
    }
    if (!announced) {
      log(`${ctx.name}: waiting for another process that is starting it`);
      announced = true;
    }
    await sleep(100 + Math.random() * 100);
  }
}

function tryLock(lockDir: string, ownerFile: string, me: string): boolean {
  try {
    fs.mkdirSync(lockDir);
    fs.writeFileSync(ownerFile, `${me}\n`);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

function release(ownerFile: string, lockDir: string, me: string): void {
  try {
    if (fs.readFileSync(ownerFile, 'utf8').trim() === me)
      fs.rmSync(lockDir, { recursive: true, force: true });
  } catch {
    // already gone
  }
}

/**
 * Its owner died holding it. Move it aside (atomic) and look again: when another waiter took it
 * over in between, what we moved is that waiter's live lock, so put it back.
 */
function moveStaleLockAside(lockDir: string): void {
  const aside = `${lockDir}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(lockDir, aside);
    if (lockIsStale(aside, path.join(aside, 'owner'))) fs.rmSync(aside, { recursive: true, force: true });
    else fs.renameSync(aside, lockDir);
  } catch {
    // someone else moved it first
  }
}

function lockIsStale(lockDir: string, ownerFile: string): boolean {
  try {
    const owner = Number.parseInt(fs.readFileSync(ownerFile, 'utf8').trim(), 10);
    if (Number.isInteger(owner) && owner > 0) return !isAlive(owner);
  } catch {
    // no owner yet: the holder is between mkdir and writeFile, or died there
  }
  try {
    return Date.now() - fs.statSync(lockDir).mtimeMs > 10_000;
  } catch {
    return false; // gone already
  }
}
