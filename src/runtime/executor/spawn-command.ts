import { constants as osConstants } from 'node:os';
import type { ExecutorProcess, ExitResult } from '../../ports/executor.ts';
import { ignoreWriteErrors } from './command-output.ts';
import type { CommandRunner } from './command-runner.ts';
import type { PreparedCall } from './prepared-call.ts';

/**
 * `spawn`: resolves with the process's handle once it has started (its pipes are the caller's);
 * `wait()` is the whole call through guard, a failure before the start rejects the spawn.
 */
export function spawnCommand(runner: CommandRunner, call: PreparedCall): Promise<ExecutorProcess> {
  return new Promise<ExecutorProcess>((resolve, reject) => {
    let handle: ExecutorProcess | undefined;
    const finished: Promise<ExitResult> = runner.execute(call, async (child, _supervision, started) => {
      ignoreWriteErrors(child.stdin);
      handle = {
        pid: child.pid,
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
        wait: () => finished,
        kill: (signal?: NodeJS.Signals) => {
          if (signal === undefined) return child.terminate();
          if (!(signal in osConstants.signals)) {
            throw runner.guard.invalid('spawn', 'signal', 'must be a signal name, e.g. SIGINT');
          }
          child.signal(signal);
        },
      };
      resolve(handle);
      const exit = await child.exited;
      return { exitCode: exit.exitCode, signal: exit.signal, durationMs: performance.now() - started };
    });
    finished.catch((error: unknown) => {
      if (handle === undefined) reject(error);
    });
  });
}
