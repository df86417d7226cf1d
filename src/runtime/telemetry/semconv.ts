// Every metric and attribute name berth exports: OpenTelemetry's semantic conventions in
// Prometheus form (dots become underscores, the unit a suffix), berth's own where it has none.
// A new port adds its family here and passes it to `Guard`; guard.ts is not edited.

/** Attribute (label) names. */
export const attributes = {
  component: 'component',
  operation: 'operation',
  errorType: 'error_type',
  outcome: 'outcome',
  result: 'result',
  dbSystemName: 'db_system_name',
  dbOperationName: 'db_operation_name',
  messagingSystem: 'messaging_system',
  messagingOperationName: 'messaging_operation_name',
  messagingDestinationName: 'messaging_destination_name',
  messagingConsumerGroupName: 'messaging_consumer_group_name',
  messagingOperationType: 'messaging_operation_type',
  messagingDestinationPartitionId: 'messaging_destination_partition_id',
  serverAddress: 'server_address',
  serverPort: 'server_port',
  dbNamespace: 'db_namespace',
  // OpenTelemetry has no convention for executors or secret stores; the executable follows `process.*`.
  executorSystem: 'executor_system',
  executorOperation: 'executor_operation',
  processExecutableName: 'process_executable_name',
  secretStoreSystem: 'secret_store_system',
  secretStoreOperation: 'secret_store_operation',
  genAiProviderName: 'gen_ai_provider_name',
  genAiOperationName: 'gen_ai_operation_name',
  genAiRequestModel: 'gen_ai_request_model',
  genAiTokenType: 'gen_ai_token_type',
} as const;

/** Span attribute names: the conventions' dotted form. */
export const spanAttributes = {
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  dbSystemName: 'db.system.name',
  dbOperationName: 'db.operation.name',
  dbNamespace: 'db.namespace',
  dbCollectionName: 'db.collection.name',
  messagingSystem: 'messaging.system',
  messagingOperationName: 'messaging.operation.name',
  messagingOperationType: 'messaging.operation.type',
  messagingDestinationName: 'messaging.destination.name',
  messagingConsumerGroupName: 'messaging.consumer.group.name',
  messagingMessageId: 'messaging.message.id',
  messagingBatchMessageCount: 'messaging.batch.message_count',
  messagingMessageBodySize: 'messaging.message.body.size',
  genAiProviderName: 'gen_ai.provider.name',
  genAiOperationName: 'gen_ai.operation.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiResponseModel: 'gen_ai.response.model',
  genAiResponseFinishReasons: 'gen_ai.response.finish_reasons',
  genAiUsageInputTokens: 'gen_ai.usage.input_tokens',
  genAiUsageOutputTokens: 'gen_ai.usage.output_tokens',
  // berth's own, where the conventions have none.
  executorSystem: 'berth.executor.system',
  executorOperation: 'berth.executor.operation',
  secretStoreSystem: 'berth.secret_store.system',
  secretStoreOperation: 'berth.secret_store.operation',
  retryAttempt: 'berth.retry.attempt',
  retryDelayMs: 'berth.retry.delay_ms',
  component: 'berth.component',
} as const;

/** How a family's operations appear as spans. */
export interface SpanConventions {
  /** The attribute naming the backend, e.g. `db.system.name`. */
  readonly system: string;
  readonly operation: string;
  /** The conventions' name where berth's operation differs (an LLM's generate is `chat`). */
  readonly operationNames?: Readonly<Record<string, string>>;
  /** Attributes every span of an operation carries, e.g. `messaging.operation.type`. */
  readonly operationAttributes?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A port's family: the histogram `Guard` records every operation in, and the names of its labels. */
export interface OperationMetrics {
  readonly name: string;
  readonly help: string;
  readonly unit: 's';
  readonly buckets: readonly number[];
  /** The attribute naming the backend: OpenTelemetry's system or provider. */
  readonly system: string;
  readonly operation: string;
  /** Every call brings labels of its own (`Guard.run`'s `labels`): series bound up front would stay empty. */
  readonly labelledPerCall?: boolean;
  /** The label naming the adapter's namespace (`db_namespace`), where the family has one. */
  readonly namespace?: string;
  /** Labels every series of an operation carries, e.g. `messaging_operation_type`. */
  readonly operationLabels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly span?: SpanConventions;
}

/** A counter, gauge or plain histogram, created once per registry. */
export interface MetricDefinition {
  readonly name: string;
  readonly help: string;
  readonly unit?: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
}

// OpenTelemetry's advised buckets for operation durations, in seconds.
const durationBuckets: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

// OpenTelemetry's advised buckets for messaging durations, in seconds.
const messagingBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

// OpenTelemetry's advised buckets for gen_ai.client.token.usage.
const tokenBuckets: readonly number[] = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
];

/** Cache, DocumentStore, TimeSeries, and the next database port (SqlDatabase). */
export const dbClientOperationDuration: OperationMetrics = {
  name: 'db_client_operation_duration_seconds',
  help: 'Duration of database client operations.',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.dbSystemName,
  operation: attributes.dbOperationName,
  namespace: attributes.dbNamespace,
  span: { system: spanAttributes.dbSystemName, operation: spanAttributes.dbOperationName },
};

export const messagingClientOperationDuration: OperationMetrics = {
  name: 'messaging_client_operation_duration_seconds',
  help: 'Duration of messaging client operations: publishes (send) and delivered batches until handled (receive).',
  unit: 's',
  buckets: messagingBuckets,
  system: attributes.messagingSystem,
  operation: attributes.messagingOperationName,
  // `receive` (a delivered batch, until its records were handled) is recorded by broker-tracing.ts.
  operationLabels: { publish: { [attributes.messagingOperationType]: 'send' } },
  span: {
    system: spanAttributes.messagingSystem,
    operation: spanAttributes.messagingOperationName,
    operationAttributes: { publish: { [spanAttributes.messagingOperationType]: 'send' } },
  },
};

export const messagingProcessDuration: OperationMetrics = {
  name: 'messaging_process_duration_seconds',
  help: 'Duration of one handler attempt on one delivered message.',
  unit: 's',
  buckets: messagingBuckets,
  system: attributes.messagingSystem,
  operation: attributes.messagingOperationName,
};

export const messagingClientSentMessages: MetricDefinition = {
  name: 'messaging_client_sent_messages_total',
  help: 'Messages a producer sent (or failed to send, with error_type).',
  unit: '{message}',
  labelNames: [
    attributes.messagingSystem,
    attributes.messagingOperationName,
    attributes.messagingDestinationName,
    attributes.serverAddress,
    attributes.serverPort,
    attributes.errorType,
    attributes.component,
  ],
};

export const messagingConsumerLag: MetricDefinition = {
  name: 'berth_messaging_consumer_lag_messages',
  help: "Messages a consumer group has yet to commit, per partition (Kafka: high watermark minus committed offset; Redis Streams: the group's lag).",
  unit: '{message}',
  labelNames: [
    attributes.messagingSystem,
    attributes.messagingDestinationName,
    attributes.messagingDestinationPartitionId,
    attributes.messagingConsumerGroupName,
    attributes.component,
  ],
};

// OpenTelemetry has no metric for commands a program runs.
export const executorRunDuration: OperationMetrics = {
  name: 'berth_executor_run_duration_seconds',
  help: 'Duration of commands run by an executor, from start to exit.',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.executorSystem,
  operation: attributes.executorOperation,
  labelledPerCall: true,
  span: { system: spanAttributes.executorSystem, operation: spanAttributes.executorOperation },
};

export const secretStoreOperationDuration: OperationMetrics = {
  name: 'berth_secret_store_operation_duration_seconds',
  help: 'Duration of secret store operations.',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.secretStoreSystem,
  operation: attributes.secretStoreOperation,
  span: { system: spanAttributes.secretStoreSystem, operation: spanAttributes.secretStoreOperation },
};

/** The conventions' names of berth's LLM operations (`gen_ai.operation.name`), in spans and metrics alike. */
export const genAiOperationNames: Readonly<Record<string, string>> = {
  generate: 'chat',
  stream: 'chat',
  embed: 'embeddings',
};

export const genAiClientOperationDuration: OperationMetrics = {
  name: 'gen_ai_client_operation_duration_seconds',
  help: 'Duration of GenAI client operations (for a stream: until its first delta).',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.genAiProviderName,
  operation: attributes.genAiOperationName,
  operationLabels: Object.fromEntries(
    Object.entries(genAiOperationNames).map(([operation, name]) => [
      operation,
      { [attributes.genAiOperationName]: name },
    ]),
  ),
  labelledPerCall: true,
  span: {
    system: spanAttributes.genAiProviderName,
    operation: spanAttributes.genAiOperationName,
    operationNames: genAiOperationNames,
  },
};

export const genAiClientTokenUsage: MetricDefinition = {
  name: 'gen_ai_client_token_usage',
  help: 'Tokens used by GenAI client operations, by token type.',
  unit: '{token}',
  labelNames: [
    attributes.genAiProviderName,
    attributes.genAiOperationName,
    attributes.genAiRequestModel,
    attributes.genAiTokenType,
    attributes.component,
  ],
  buckets: tokenBuckets,
};

export const messagingClientConsumedMessages: MetricDefinition = {
  name: 'messaging_client_consumed_messages_total',
  help: 'Messages delivered to subscriptions, counted on delivery.',
  unit: '{message}',
  labelNames: [
    attributes.messagingSystem,
    attributes.messagingOperationName,
    attributes.messagingDestinationName,
    attributes.messagingConsumerGroupName,
    attributes.serverAddress,
    attributes.serverPort,
    attributes.component,
  ],
};

// Outcomes were labels of the consumed counter, which now counts deliveries as the conventions ask.
export const messagingHandledMessages: MetricDefinition = {
  name: 'berth_messaging_handled_messages_total',
  help: 'Messages whose handling ended, by outcome (acked, dead_lettered).',
  unit: '{message}',
  labelNames: [
    attributes.component,
    attributes.messagingDestinationName,
    attributes.messagingConsumerGroupName,
    attributes.outcome,
  ],
};

export const operationRetries: MetricDefinition = {
  name: 'berth_operation_retries_total',
  help: 'Retries of idempotent operations after a retryable error.',
  unit: '{retry}',
  labelNames: [attributes.component, attributes.operation],
};

export const circuitBreakerState: MetricDefinition = {
  name: 'berth_circuit_breaker_state',
  help: 'Circuit breaker state per component: 0 closed, 1 half-open, 2 open.',
  labelNames: [attributes.component],
};

export const secretCacheLookups: MetricDefinition = {
  name: 'berth_secret_cache_lookups_total',
  help: 'Secret reads by where the value came from: hit, shared_hit, miss (the store), stale.',
  unit: '{lookup}',
  labelNames: [attributes.component, attributes.result],
};

// OpenTelemetry has no outbox metrics: these follow berth's own naming.
export const outboxRelayedMessages: MetricDefinition = {
  name: 'berth_outbox_relayed_messages_total',
  help: 'Outbox messages a relay published, by outcome (published, failed: refused by the broker for good).',
  unit: '{message}',
  labelNames: [attributes.component, attributes.outcome],
};

export const outboxPendingMessages: MetricDefinition = {
  name: 'berth_outbox_pending_messages',
  help: 'Outbox messages committed and not yet published (failed ones excluded).',
  unit: '{message}',
  labelNames: [attributes.component],
};

export const outboxOldestPendingAge: MetricDefinition = {
  name: 'berth_outbox_oldest_pending_age_seconds',
  help: 'Age of the oldest outbox message not yet published; 0 when none is pending.',
  unit: 's',
  labelNames: [attributes.component],
};

export const outboxFailedMessages: MetricDefinition = {
  name: 'berth_outbox_failed_messages',
  help: 'Outbox messages the broker refused for good (validation), kept with the reason and no longer tried.',
  unit: '{message}',
  labelNames: [attributes.component],
};
