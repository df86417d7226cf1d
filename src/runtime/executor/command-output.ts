import type { Readable, Writable } from 'node:stream';
import type { ExitResult } from '../../ports/executor.ts';
import { HeadTailBuffer } from './head-tail-buffer.ts';

const noop = (): undefined => undefined;

/** A command's output stream read into a head-and-tail buffer of `maxBytes`. */
export function collect(
  stream: Readable | null,
  maxBytes: number,
): { output: HeadTailBuffer; done: Promise<void> } {
  const output = new HeadTailBuffer(maxBytes);
  if (stream === null) return { output, done: Promise.resolve() };
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => output.write(chunk));
    stream.once('end', resolve);
    // A stream destroyed after SIGKILL closes without ending; an error keeps what was read.
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  return { output, done };
}

// A command that exits without reading stdin makes the write fail with EPIPE: not an error of the call.
export function ignoreWriteErrors(stdin: Writable | null): void {
  stdin?.on('error', noop);
}

/** The `outcome` label of a call's duration. */
export function outcomeOf(result: ExitResult | undefined): string {
  if (result === undefined) return 'error';
  if (result.exitCode === 0) return 'success';
  return result.signal === null ? 'exit_nonzero' : 'signal';
}

export function describeExit(result: ExitResult): string {
  return result.signal === null ? `exited with code ${result.exitCode}` : `was killed by ${result.signal}`;
}
