import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';

/** How payloads travel: JSON by default, or raw bytes (`Uint8Array`) on request. */
export type PayloadEncoding = 'json' | 'bytes';

export interface OutgoingMessage<T = unknown> {
  value: T;
  /** Messages with one key are delivered in publish order. */
  key?: string;
  headers?: Record<string, string>;
  /** Assigned (a UUID) when absent; carried to the consumer and the dead-letter topic. */
  id?: string;
}

export interface ReceivedMessage<T = unknown> {
  value: T;
  key: string | undefined;
  headers: Readonly<Record<string, string>>;
  id: string;
  topic: string;
  /** 1 on first delivery to this handler, counting in-process retries. */
  attempt: number;
}

/** Resolving acknowledges the message; throwing asks for a retry. */
export type MessageHandler<T> = (message: ReceivedMessage<T>, signal: AbortSignal) => Promise<void>;

/**
 * Runs around a handler, once per attempt, inside the broker's retries and dead-lettering:
 * `next()` runs the rest of the chain and the handler; returning without calling it
 * acknowledges the message unhandled; throwing fails the attempt as the handler would.
 */
export type HandlerMiddleware = (
  message: ReceivedMessage<unknown>,
  signal: AbortSignal,
  next: () => Promise<void>,
) => Promise<void>;

export interface PublishOptions<T = unknown> extends OperationOptions {
  /** Validates every outgoing value before any I/O. */
  schema?: StandardSchemaV1<unknown, T>;
  encoding?: PayloadEncoding;
}

export interface SubscribeOptions<T = unknown> {
  /** Consumer group: each group gets every message; members of one group share them. */
  group: string;
  /** Handlers running at once, across keys; one key is always handled in order. Default 1. */
  concurrency?: number;
  /** Validates incoming values before the handler; a failure goes straight to the dead-letter topic. */
  schema?: StandardSchemaV1<unknown, T>;
  /** Handler attempts before dead-lettering, the first included. Default 3. */
  maxAttempts?: number;
  /** Default `<topic>.dead-letter`. */
  deadLetterTopic?: string;
  /** Start from the oldest retained message when the group is new. Default false. */
  fromBeginning?: boolean;
  encoding?: PayloadEncoding;
  /** Deadline of one handler attempt; its signal aborts then. Default 30 s. */
  handlerTimeoutMs?: number;
  /** Backoff between handler attempts. Defaults 100 ms to 5 s. */
  retryDelayMs?: { initial: number; max: number };
  /**
   * How a handler's `process` span relates to the context the publisher put in the message's
   * headers: its child (`parent`, the default), or the root of a trace of its own that links
   * to it (`link`, for consumers whose work should not lengthen the producer's trace).
   */
  traceContext?: 'parent' | 'link';
  /**
   * How long `ready` waits for the consumer to start before it rejects (`unavailable`); the
   * consumer keeps trying after that. Default 15 s.
   */
  readyTimeoutMs?: number;
  /** Around the handler, the first outermost; after any the broker was given (`withMiddleware`). */
  middleware?: readonly HandlerMiddleware[];
}

export interface Subscription {
  readonly topic: string;
  readonly group: string;
  /**
   * Resolves once the consumer is consuming. Rejects with `unavailable` when the backend is
   * unreachable (two starts in a row failed so: a refused connection takes milliseconds) or when
   * `readyTimeoutMs` passes first; the subscription then keeps trying in the background, backing
   * off up to 5 s, with health down until it consumes, and `close()` stops it. Rejects with no
   * more attempts on `config`, `unauthorized`, `validation` or lost history (`not_found`), on too
   * many crashes after it had been consuming (`maxRestarts` per `restartWindowMs`), and with
   * `closed` on close().
   */
  readonly ready: Promise<void>;
  /** Stops fetching, lets in-flight handlers finish within a deadline, commits, disconnects. */
  close(): Promise<void>;
}

export interface Broker extends Component {
  publish<T>(
    topic: string,
    messages: OutgoingMessage<T> | readonly OutgoingMessage<T>[],
    options?: PublishOptions<T>,
  ): Promise<void>;
  subscribe<T>(topic: string, handler: MessageHandler<T>, options: SubscribeOptions<T>): Subscription;
}

export type BrokerOperation = 'publish';

/** At-least-once delivery tolerates a repeated publish: a retried one that had landed is a duplicate consumers may see. */
export const brokerOperations: OperationSpecs<BrokerOperation> = {
  publish: { idempotent: true },
};

export const brokerPort: PortDefinition<BrokerOperation> = {
  key: 'broker',
  name: 'broker',
  idPrefix: 'broker',
  envPrefix: 'BROKER',
  critical: true,
  inMemoryDriver: 'memory',
  operations: brokerOperations,
};

/** A message as a backend stores it: bytes and string headers. */
export interface BrokerRecord {
  key: string | undefined;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** A record read by a consumer, with what the backend needs to acknowledge it. */
export interface DeliveredRecord extends BrokerRecord {
  /** A backend position such as `partition:offset` or a stream entry id, for messages without an id header. */
  position: string;
  /** On backends with partitions: the partition and offset that `position` spells out. */
  partition?: number;
  offset?: string;
}

/**
 * The consumer side of a backend. It fetches batches and calls `process`; it commits a batch
 * only after `process` resolved, and redelivers it (or stops) when `process` rejects.
 */
export interface ConsumerLoop {
  /** Resolves when consuming has begun; rejects when it cannot begin (stop() is called before a new loop starts). */
  start(): Promise<void>;
  /** Stops fetching; resolves after the batch in progress was committed and the consumer disconnected. */
  stop(): Promise<void>;
}

export interface ConsumerLoopOptions {
  topic: string;
  group: string;
  fromBeginning: boolean;
  /**
   * Handles one batch; order within the array is the backend's delivery order. Resolves how many
   * leading records were handled: all of them, or fewer once the subscription is closing (it
   * takes no new record then). Commit those only; the rest is delivered again later.
   */
  process: (records: readonly DeliveredRecord[]) => Promise<number>;
  /** The loop failed for good (it is not retrying): the supervisor decides whether to restart it. */
  onCrash: (error: unknown) => void;
}

/** What a broker backend implements; berth builds the `Broker` port around it once. */
export interface BrokerAdapter {
  readonly system: string;
  /** Topic names the backend accepts; checked before any I/O. */
  checkTopic(topic: string): string | undefined;
  /** Largest encoded record the backend accepts, in bytes. */
  readonly maxRecordBytes: number;
  publish(topic: string, records: readonly BrokerRecord[], ctx: OperationContext): Promise<void>;
  consumer(options: ConsumerLoopOptions): ConsumerLoop;
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
  /** Messages `group` has yet to commit on `topic`, per partition; for the consumer lag gauge. */
  lag?(topic: string, group: string, signal: AbortSignal): Promise<readonly PartitionLag[]>;
}

/** One partition's consumer lag: its end minus what the group committed. */
export interface PartitionLag {
  /** A partition number; `0` on a backend without partitions. */
  partition: string;
  lag: number;
}
