// The processes `up` starts: is the pidfile's process alive and still the service's, and
// stopping it (SIGTERM, then SIGKILL).
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceContext, ServiceDefinition } from './definition.ts';

/** The pid in the pidfile, when that process is alive and is the service's process. */
export function runningPid(def: ServiceDefinition, ctx: ServiceContext): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(ctx.pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const commandLine = processCommandLine(pid);
  if (commandLine !== undefined && !commandLine.includes(def.processMatch)) return undefined;
  return pid;
}

/** SIGTERM, then SIGKILL when it is still alive after `timeoutMs` (default 10 s). */
export async function terminate(pid: number, timeoutMs = 10_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isAlive(pid)) await sleep(50);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still accepts signal 0.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** `/proc/<pid>/cmdline`, or undefined where there is no /proc. */
function processCommandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}
