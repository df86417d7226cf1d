// A service that gets SIGTERM while a Kafka handler is mid-message: the handler finishes, its
// offset is committed, the process exits 0, and a second instance of the service in the same
// group handles the rest: every message handled exactly once, none lost.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka } from '../support/servers.ts';

const kafka = await findKafka();
const consumerScript = path.join(import.meta.dirname, '..', 'support', 'sigterm-consumer.ts');

interface Service {
  child: ChildProcess;
  lines: string[];
  /** Resolves when a line satisfying `match` has been printed. */
  waitFor(match: (line: string) => boolean, what: string): Promise<void>;
}

function startService(env: Record<string, string>): Service {
  const child = spawn(process.execPath, [consumerScript], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  const waitFor = (match: (line: string) => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within 60 s; lines: ${lines.join(' | ')}`));
      }, 60_000);
      const check = (): void => {
        if (!lines.some(match)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { child, lines, waitFor };
}

const exitCode = async (child: ChildProcess): Promise<number | null> => {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
};

describe(
  'SIGTERM while a Kafka handler is mid-message',
  { skip: 'skip' in kafka ? kafka.skip : false },
  () => {
    it('finishes the handler, commits its offset, exits 0, and loses or repeats nothing', async () => {
      if ('skip' in kafka) return;
      const run = randomUUID().slice(0, 8);
      const env = {
        BROKER_DRIVER: 'kafka',
        KAFKA_BROKERS: kafka.brokers.join(','),
        TOPIC: `sigterm-${run}`,
        GROUP: `sigterm-${run}`,
        HANDLER_MS: '1000',
      };
      const ids = Array.from({ length: 5 }, (_, n) => `m-${n}`);
      const producer = createKafkaBroker({ brokers: kafka.brokers }, silentRuntime());
      const first = startService(env);
      let second: Service | undefined;
      try {
        await first.waitFor((line) => line === 'ready', 'ready');
        // One key: one partition, so one order and one message in flight at a time.
        await producer.publish(
          env.TOPIC,
          ids.map((id) => ({ id, key: 'one', value: { id } })),
        );
        await first.waitFor((line) => line.startsWith('start '), 'first handler start');
        first.child.kill('SIGTERM');
        assert.equal(await exitCode(first.child), 0, 'the first service closed cleanly');
        const started = first.lines.filter((line) => line.startsWith('start ')).map((line) => line.slice(6));
        const done = first.lines.filter((line) => line.startsWith('done ')).map((line) => line.slice(5));
        assert.ok(
          started.length >= 1 && started.length < ids.length,
          `stopped mid-stream: ${first.lines.join(' | ')}`,
        );
        assert.deepEqual(done, started, 'every handler that started finished before the exit');

        second = startService(env);
        for (const id of ids.filter((id) => !started.includes(id)))
          await second.waitFor((line) => line === `done ${id}`, `done ${id} in the second service`);
        second.child.kill('SIGTERM');
        assert.equal(await exitCode(second.child), 0, 'the second service closed cleanly');

        const handled = [...first.lines, ...second.lines].filter((line) => line.startsWith('start '));
        assert.deepEqual(
          handled.map((line) => line.slice(6)),
          ids,
          'each message handled once, in order, across the two services',
        );
      } finally {
        first.child.kill('SIGKILL');
        second?.child.kill('SIGKILL');
        await producer.close();
      }
    });
  },
);
