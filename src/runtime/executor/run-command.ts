import type { OutputEncoding, OutputOf, RunResult } from '../../ports/executor.ts';
import { collect, ignoreWriteErrors } from './command-output.ts';
import type { CommandRunner } from './command-runner.ts';
import type { HeadTailBuffer } from './head-tail-buffer.ts';
import type { PreparedCall } from './prepared-call.ts';

/** `run`: the command's input written, its output captured head and tail, its exit awaited. */
export function runCommand<E extends OutputEncoding>(
  runner: CommandRunner,
  call: PreparedCall,
  maxBytes: number,
): Promise<RunResult<OutputOf<E>>> {
  const asBuffer = call.encoding === 'buffer';
  const decode = (output: HeadTailBuffer): OutputOf<E> =>
    (asBuffer ? output.bytes() : output.bytes().toString('utf8')) as OutputOf<E>;
  return runner.execute<RunResult<OutputOf<E>>>(call, async (child, supervision, started) => {
    const stdout = collect(child.stdout, maxBytes);
    const stderr = collect(child.stderr, maxBytes);
    ignoreWriteErrors(child.stdin);
    child.stdin?.end(call.input);
    const exit = await child.exited;
    // A process that left the group (setsid) may hold the pipes open: once cut, stop waiting for it.
    await Promise.race([Promise.all([stdout.done, stderr.done]), supervision.whenCut]);
    if (supervision.cut !== undefined) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    return {
      exitCode: exit.exitCode,
      signal: exit.signal,
      durationMs: performance.now() - started,
      stdout: decode(stdout.output),
      stderr: decode(stderr.output),
      truncated: stdout.output.truncated || stderr.output.truncated,
    };
  });
}
