import {
  MongoClientClosedError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

// Server error codes (src/mongo/base/error_codes.yml in the MongoDB server).
const serverCodes: Record<number, { reason: ErrorReason; retryable?: boolean }> = {
  2: { reason: 'validation' }, // BadValue
  9: { reason: 'validation' }, // FailedToParse
  14: { reason: 'validation' }, // TypeMismatch
  28: { reason: 'validation' }, // PathNotViable: a dotted patch through a non-object
  40: { reason: 'validation' }, // ConflictingUpdateOperators
  52: { reason: 'validation' }, // DollarPrefixedFieldName
  56: { reason: 'validation' }, // EmptyFieldName
  57: { reason: 'validation' }, // DottedFieldName
  66: { reason: 'validation' }, // ImmutableField
  72: { reason: 'validation' }, // InvalidOptions
  121: { reason: 'validation' }, // DocumentValidationFailure: the collection's validator refused it
  168: { reason: 'validation' }, // InvalidPipelineOperator: an unknown expression operator
  40324: { reason: 'validation' }, // an unknown aggregation stage
  10334: { reason: 'validation' }, // BSONObjectTooLarge: a document over 16 MiB
  17419: { reason: 'validation' }, // a document over 16 MiB after an update
  13: { reason: 'unauthorized' }, // Unauthorized
  18: { reason: 'unauthorized' }, // AuthenticationFailed
  8000: { reason: 'unauthorized' }, // AtlasError: bad credentials on Atlas
  26: { reason: 'not_found' }, // NamespaceNotFound
  11000: { reason: 'conflict', retryable: false }, // DuplicateKey
  11001: { reason: 'conflict', retryable: false }, // DuplicateKey (legacy)
  85: { reason: 'conflict', retryable: false }, // IndexOptionsConflict
  86: { reason: 'conflict', retryable: false }, // IndexKeySpecsConflict
  // WriteConflict: another transaction touched the document; trying again is expected.
  112: { reason: 'conflict', retryable: true },
  50: { reason: 'timeout' }, // MaxTimeMSExpired
  262: { reason: 'timeout' }, // ExceededTimeLimit
  89: { reason: 'timeout' }, // NetworkTimeout
  6: { reason: 'unavailable' }, // HostUnreachable
  7: { reason: 'unavailable' }, // HostNotFound
  91: { reason: 'unavailable' }, // ShutdownInProgress
  189: { reason: 'unavailable' }, // PrimarySteppedDown
  9001: { reason: 'unavailable' }, // SocketException
  10107: { reason: 'unavailable' }, // NotWritablePrimary
  11600: { reason: 'unavailable' }, // InterruptedAtShutdown
  11602: { reason: 'unavailable' }, // InterruptedDueToReplStateChange
  13435: { reason: 'unavailable' }, // NotPrimaryNoSecondaryOk
  13436: { reason: 'unavailable' }, // NotPrimaryOrSecondary
  16500: { reason: 'rate_limited' }, // Cosmos DB's RequestRateTooLarge
  238: { reason: 'internal', retryable: false }, // NotImplemented: FerretDB lacks the feature
};

/** Maps a `mongodb` driver error to berth's reasons. */
export function classifyMongoError(error: unknown): ErrorClassification {
  const tls = classifyTlsError(error);
  if (tls) return tls;
  if (error instanceof MongoServerError) {
    const code = typeof error.code === 'number' ? error.code : undefined;
    const known = code === undefined ? undefined : serverCodes[code];
    if (known) return known;
    // FerretDB 1.x reports a unique index violated by an update as InternalError (1) from SQLite.
    if (code === 1 && error.message.includes('UNIQUE constraint failed'))
      return { reason: 'conflict', retryable: false };
    // Labels the server puts on errors a retried write can survive.
    if (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('TransientTransactionError'))
      return { reason: 'unavailable' };
    return { reason: 'internal' };
  }
  if (error instanceof MongoClientClosedError || error instanceof MongoTopologyClosedError)
    return { reason: 'closed', retryable: false };
  if (error instanceof MongoNotConnectedError) return { reason: 'unavailable' };
  if (error instanceof MongoNetworkTimeoutError || error instanceof MongoOperationTimeoutError)
    return { reason: 'timeout' };
  if (error instanceof MongoServerSelectionError)
    return { reason: 'unavailable', message: 'no MongoDB server reachable' };
  if (error instanceof MongoNetworkError) return { reason: 'unavailable' };
  if (error instanceof MongoParseError) return { reason: 'config', retryable: false };
  if (error instanceof MongoInvalidArgumentError) return { reason: 'validation', retryable: false };
  // BSON's serializer writes into a buffer of 17 MiB: a larger document overruns it.
  if (error instanceof RangeError && (error as { code?: unknown }).code === 'ERR_OUT_OF_RANGE')
    return { reason: 'validation', retryable: false, message: 'the document is too large for BSON (16 MiB)' };
  return { reason: 'internal' };
}
