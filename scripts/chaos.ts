/**
 * The chaos table of issue #15, in full: every backend this machine runs behind Toxiproxy, each
 * toxic for longer than CI gives it, one backend at a time, then the table.
 *
 *   node scripts/chaos.ts                         all backends, 10 s a toxic
 *   node scripts/chaos.ts redis kafka             some of them
 *   node scripts/chaos.ts --toxic-ms 30000        longer cells
 *
 * Servers come as in the tests (env vars, else `npm run services`). Prints one Markdown row per
 * cell as it ends, then the table and each failed bound; exits 1 when a cell failed.
 */
import { parseArgs } from 'node:util';
import { chaosBackends, openChaosSubject, type ChaosBackend } from '../test/support/chaos-backends.ts';
import {
  assertCell,
  chaosToxics,
  formatRow,
  runCell,
  tableHeader,
  type CellOptions,
} from '../test/support/chaos.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'toxic-ms': { type: 'string', default: '10000' },
    'calls-per-second': { type: 'string', default: '50' },
    'latency-ms': { type: 'string', default: '5000' },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive integer, not ${text}\n`);
    process.exit(2);
  }
  return value;
}

const options: CellOptions = {
  toxicMs: positive('toxic-ms', values['toxic-ms']),
  callsPerSecond: positive('calls-per-second', values['calls-per-second']),
  latencyMs: positive('latency-ms', values['latency-ms']),
  recoveryLimitMs: 30_000,
};
const unknown = positionals.filter((name) => !(chaosBackends as readonly string[]).includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown backend ${unknown.join(', ')}; known: ${chaosBackends.join(', ')}\n`);
  process.exit(2);
}
const backends = positionals.length > 0 ? (positionals as ChaosBackend[]) : [...chaosBackends];

const rows: string[] = [];
const failures: string[] = [];
process.stdout.write(`${tableHeader}\n`);
for (const backend of backends) {
  const subject = await openChaosSubject(backend);
  if ('skip' in subject) {
    rows.push(`| ${backend} | (all) | skipped: ${subject.skip} |`);
    process.stdout.write(`${rows.at(-1)}\n`);
    continue;
  }
  try {
    for (const toxic of chaosToxics) {
      const result = await runCell(subject, toxic, options);
      rows.push(formatRow(result));
      process.stdout.write(`${rows.at(-1)}\n`);
      try {
        assertCell(result);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  } finally {
    await subject.close();
  }
}

process.stdout.write(
  `\nChaos table: ${options.toxicMs} ms a toxic, ${options.callsPerSecond} calls/s, latency ${options.latencyMs} ms ` +
    `each way, bandwidth 1 KB/s each way, reset_peer and timeout at once, slicer 16±8 bytes 50 µs apart\n\n` +
    `${tableHeader}\n${rows.join('\n')}\n`,
);
if (failures.length > 0) {
  process.stdout.write(
    `\n${failures.length} failed bounds:\n${failures.map((line) => `- ${line}`).join('\n')}\n`,
  );
  process.exitCode = 1;
}
// Drivers keep timers and sockets of their own for a while after close: the table is done.
process.exit();
