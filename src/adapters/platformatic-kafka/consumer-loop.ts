import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { ConsumerLoop, ConsumerLoopOptions } from '../../ports/broker.ts';
import type { ClientOptions } from './broker.ts';
import { PlatformaticKafkaRecord } from './record.ts';

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export interface ConsumerLoopContext {
  client: ClientOptions;
  fetchMaxWaitMs: number;
  ensureTopic: (topic: string) => Promise<void>;
  logger: Logger;
}

// Records handed to one `process` call at most; more wait for the next.
const maxBatchRecords = 2_000;
// A commit refused because the group is rebalancing: the partition's next owner reads from the last commit.
const rebalancing = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

const isRebalancing = (error: unknown): boolean => {
  const e = error as { apiId?: unknown; errors?: unknown; cause?: unknown } | null;
  if (typeof e !== 'object' || e === null) return false;
  if (typeof e.apiId === 'string' && rebalancing.has(e.apiId)) return true;
  return (Array.isArray(e.errors) && e.errors.some(isRebalancing)) || isRebalancing(e.cause);
};

/**
 * One consumer in a group, read as batches of what its stream has buffered: one `process` call
 * at a time, its handled records committed before the next. After every join the stream lists the
 * positions of its partitions; reading waits until those without a committed offset have it
 * committed (with `fromBeginning: false`), so `ready` means positioned and a later member starts
 * where this one did.
 */
export class PlatformaticConsumerLoop implements ConsumerLoop {
  readonly #options: ConsumerLoopOptions;
  readonly #context: ConsumerLoopContext;
  #consumer: Consumer | undefined;
  #stream: Stream | undefined;
  #stopping = false;
  #started = false;
  // Reading waits while a join's positions are being committed.
  #positioned = false;
  #positionings = 0;
  #batch: Promise<void> | undefined;
  // The last batch's commit while it is in flight.
  #committing: Promise<void> | undefined;
  #commitFailed = false;
  #endStartWait: (error?: Error) => void = () => undefined;

  constructor(options: ConsumerLoopOptions, context: ConsumerLoopContext) {
    this.#options = options;
    this.#context = context;
  }

  async start(): Promise<void> {
    const { topic, group, fromBeginning } = this.#options;
    await this.#context.ensureTopic(topic);
    if (this.#stopping) return;
    const consumer = new Consumer({
      ...this.#context.client,
      groupId: group,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      // close() waits for the fetch in flight: the broker holds an idle one this long.
      maxWaitTime: this.#context.fetchMaxWaitMs,
      // A fresh cluster has no group coordinator for seconds: the client retries joins meanwhile.
      retries: 5,
      retryDelay: 500,
    });
    this.#consumer = consumer;
    const started = new Promise<void>((resolve, reject) => {
      this.#endStartWait = (error) => (error === undefined ? resolve() : reject(error));
    });
    // The callback form: listeners are on the stream before it can list positions.
    consumer.consume(
      {
        topics: [topic],
        mode: 'committed',
        fallbackMode: fromBeginning ? 'earliest' : 'latest',
        autocommit: false,
      },
      (error, stream) => {
        if (stream === undefined) return this.#endStartWait(error ?? new Error('no Kafka consumer stream'));
        this.#stream = stream;
        stream.on('offsets', () => this.#onPositions(stream));
        stream.on('readable', () => this.#pump());
        stream.on('error', (streamError) => this.#fail(streamError));
        stream.on('close', () => {
          if (!this.#stopping) this.#fail(new Error('the Kafka consumer stream closed'));
        });
        if (this.#stopping) void stream.close().catch(() => undefined);
      },
    );
    await started;
  }

  #fail(error: unknown): void {
    if (this.#stopping) return;
    // Before the first positions the start fails with it; afterwards the supervisor decides.
    if (this.#started) this.#options.onCrash(error);
    else
      this.#endStartWait(
        error instanceof Error ? error : new Error('the Kafka consumer failed', { cause: error }),
      );
  }

  // The stream listed positions (after a join, or after recovering an offset out of range).
  #onPositions(stream: Stream): void {
    const positioning = ++this.#positionings;
    this.#positioned = false;
    const current = (): boolean => positioning === this.#positionings && !this.#stopping;
    this.#commitFreshPositions(stream).then(
      () => {
        if (!current()) return;
        this.#positioned = true;
        if (!this.#started) {
          this.#started = true;
          this.#endStartWait();
        }
        this.#pump();
      },
      (error: unknown) => {
        if (current()) this.#fail(error);
      },
    );
  }

  // From the beginning, a partition without a committed offset starts at its log start: nothing to do.
  async #commitFreshPositions(stream: Stream): Promise<void> {
    const consumer = this.#consumer;
    const { topic, fromBeginning } = this.#options;
    const assigned = consumer?.assignments?.find((a) => a.topic === topic)?.partitions ?? [];
    if (fromBeginning || consumer === undefined || assigned.length === 0) return;
    // Read now, before the stream's first fetch moves them.
    const positions = assigned.map((partition) => ({
      partition,
      offset: stream.offsetsToFetch.get(`${topic}:${partition}`),
    }));
    const committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: assigned }] });
    const offsets = committed.get(topic) ?? [];
    const fresh = positions.filter(
      (p): p is { partition: number; offset: bigint } =>
        p.offset !== undefined && (offsets[p.partition] ?? -1n) < 0n,
    );
    if (fresh.length === 0) return;
    await this.#commit(fresh.map(({ partition, offset }) => ({ topic, partition, offset, leaderEpoch: -1 })));
  }

  #pump(): void {
    const stream = this.#stream;
    if (stream === undefined || this.#batch !== undefined || !this.#positioned || this.#stopping) return;
    const records: PlatformaticKafkaRecord[] = [];
    for (let message: Message | null; records.length < maxBatchRecords;) {
      message = stream.read() as Message | null;
      if (message === null) break;
      records.push(new PlatformaticKafkaRecord(message));
    }
    if (records.length === 0) return;
    this.#batch = this.#run(records).then(
      () => {
        this.#batch = undefined;
        this.#pump();
      },
      (error: unknown) => {
        this.#batch = undefined;
        this.#fail(error);
      },
    );
  }

  // The next batch's handlers run while this batch's commit is in flight; one commit at a time, so
  // a partition's commits land in order and a batch never commits before its own handlers ended.
  async #run(records: readonly PlatformaticKafkaRecord[]): Promise<void> {
    const handled = await this.#options.process(records);
    // Committed only after the handlers succeeded or dead-lettered: each partition's last handled record.
    const last = new Map<number, Message>();
    for (let i = 0; i < handled; i++) last.set(records[i]!.partition, records[i]!.message);
    await this.#committing;
    if (last.size === 0 || this.#commitFailed) return;
    const topic = this.#options.topic;
    const offsets = [...last.values()].map((m) => ({
      topic,
      partition: m.partition,
      offset: m.offset + 1n,
      leaderEpoch: m.leaderEpoch,
    }));
    // A failed commit crashes the loop (the supervisor restarts it from the last commit) and stops later ones.
    this.#committing = this.#commit(offsets).then(
      () => {
        this.#committing = undefined;
      },
      (error: unknown) => {
        this.#commitFailed = true;
        this.#fail(error);
      },
    );
  }

  async #commit(
    offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[],
  ): Promise<void> {
    try {
      await this.#consumer!.commit({ offsets });
    } catch (error) {
      if (!isRebalancing(error)) throw error;
      this.#context.logger.debug(
        { err: error, topic: this.#options.topic },
        'commit refused during a rebalance',
      );
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#endStartWait();
    // The batch in progress commits what it handled, and the commit in flight lands, before the consumer leaves.
    await this.#batch?.catch(() => undefined);
    await this.#committing;
    await this.#stream?.close().catch(() => undefined);
    await this.#consumer?.close(true).catch(() => undefined);
  }
}
