// Run as a child process by the integration tests: one executor run whose command writes
// `BYTES` bytes to stdout, then this process's peak RSS, as one JSON line.
import { createProcessExecutor } from '../../src/adapters/process/index.ts';
import { silentRuntime } from './runtime.ts';

const bytes = Number(process.env.BYTES);
const maxOutputBytes = Number(process.env.MAX_OUTPUT_BYTES);
const flood = [
  'const chunk = Buffer.alloc(1 << 20, 120); let left = Number(process.argv[1]) - 8;',
  'process.stdout.write("HEAD");',
  'const go = () => { while (left > 0) { const c = left >= chunk.length ? chunk : chunk.subarray(0, left);',
  'left -= c.length; if (!process.stdout.write(c)) return process.stdout.once("drain", go); }',
  'process.stdout.write("TAIL"); }; go();',
].join(' ');

const executor = createProcessExecutor({}, silentRuntime());
const baselineRssKiB = process.resourceUsage().maxRSS;
const result = await executor.run(process.execPath, ['-e', flood, String(bytes)], {
  maxOutputBytes,
  timeoutMs: 120_000,
});
await executor.close();
process.stdout.write(
  JSON.stringify({
    exitCode: result.exitCode,
    truncated: result.truncated,
    length: result.stdout.length,
    head: result.stdout.slice(0, 8),
    tail: result.stdout.slice(-8),
    baselineRssKiB,
    peakRssKiB: process.resourceUsage().maxRSS,
  }) + '\n',
);
