import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger, createRuntime, type PolicyOverrides, type Runtime } from '../../src/runtime/index.ts';

/** A runtime whose logs are dropped and whose metrics live in a registry of their own. */
export function silentRuntime(policies?: PolicyOverrides): Runtime {
  return createRuntime({
    logger: createLogger({ level: 'silent' }),
    registry: new Registry(),
    policies: policies ?? {},
  });
}

/** A runtime that keeps every log line, for asserting on what was logged. */
export function capturingRuntime(policies?: PolicyOverrides): Runtime & { logs: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const runtime = createRuntime({
    logger: createLogger({ level: 'trace' }, sink),
    registry: new Registry(),
    policies: policies ?? {},
  });
  return { ...runtime, logs: () => lines.join('') };
}
