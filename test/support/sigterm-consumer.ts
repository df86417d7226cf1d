// A service in a child process for the SIGTERM test: built from the environment
// (BROKER_DRIVER=kafka, KAFKA_BROKERS), it consumes TOPIC in GROUP one message at a time, each
// handler taking HANDLER_MS, and prints `ready`, `start <id>`, `done <id>` lines; SIGTERM goes
// to handleShutdownSignals.
import {
  createInfrastructure,
  createLogger,
  createRuntime,
  handleShutdownSignals,
  loadConfig,
} from '../../src/index.ts';

const runtime = createRuntime({
  logger: createLogger({ level: (process.env.CHILD_LOG as 'debug') ?? 'silent' }),
});
const infra = await createInfrastructure(await loadConfig(process.env), runtime, {
  shutdownTimeoutMs: 20_000,
});
const handlerMs = Number(process.env.HANDLER_MS ?? 1_000);
const subscription = infra.broker.subscribe(
  process.env.TOPIC!,
  async (message) => {
    process.stdout.write(`start ${message.id}\n`);
    await new Promise((resolve) => setTimeout(resolve, handlerMs));
    process.stdout.write(`done ${message.id}\n`);
  },
  { group: process.env.GROUP!, fromBeginning: true, concurrency: 1 },
);
handleShutdownSignals(infra);
await subscription.ready;
process.stdout.write('ready\n');
