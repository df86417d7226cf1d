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
};

export const messagingClientOperationDuration: OperationMetrics = {
  name: 'messaging_client_operation_duration_seconds',
  help: 'Duration of messaging client operations.',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.messagingSystem,
  operation: attributes.messagingOperationName,
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
};

export const secretStoreOperationDuration: OperationMetrics = {
  name: 'berth_secret_store_operation_duration_seconds',
  help: 'Duration of secret store operations.',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.secretStoreSystem,
  operation: attributes.secretStoreOperation,
};

export const genAiClientOperationDuration: OperationMetrics = {
  name: 'gen_ai_client_operation_duration_seconds',
  help: 'Duration of GenAI client operations (for a stream: until its first delta).',
  unit: 's',
  buckets: durationBuckets,
  system: attributes.genAiProviderName,
  operation: attributes.genAiOperationName,
  labelledPerCall: true,
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
  help: 'Messages handled by subscriptions, by outcome (acked, dead_lettered).',
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
