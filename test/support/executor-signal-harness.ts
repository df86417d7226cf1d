// Run as a child process by the integration tests: starts `sleep` through a process executor,
// prints `ready <pid>`, then lets the test signal it. The mode picks what the "application" does.
import { createProcessExecutor } from '../../src/adapters/process/index.ts';
import { silentRuntime } from './runtime.ts';

const mode = process.argv[2];
const executor = createProcessExecutor(
  { forwardSignals: mode === 'forward' ? ['SIGINT'] : false },
  silentRuntime(),
);
// Set once the command runs; the test signals this process only after `ready`.
const started: { pid?: number } = {};
if (mode === 'forward' || mode === 'handled') {
  // The application handles the signal itself, so this process does not die of it.
  process.on(mode === 'forward' ? 'SIGINT' : 'SIGTERM', () => {
    process.stdout.write('handled\n');
    if (mode !== 'handled') return;
    // Counted from the signal, not from `ready`: a signal wrongly passed on to the command has
    // had 500 ms to end it, however long the test took to send the signal.
    setTimeout(() => {
      process.stdout.write(`still running ${String(isRunning(started.pid!))}\n`);
      void executor.close().then(() => process.stdout.write('closed\n'));
    }, 500);
  });
}
const child = await executor.spawn('sleep', ['1000'], { timeoutMs: 60_000 });
started.pid = child.pid;
process.stdout.write(`ready ${child.pid}\n`);
if (mode === 'exit') setTimeout(() => process.exit(0), 100);
try {
  const exit = await child.wait();
  process.stdout.write(`exit ${exit.signal ?? exit.exitCode}\n`);
} catch (error) {
  process.stdout.write(`failed ${(error as { reason?: string }).reason}\n`);
}
await executor.close();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
