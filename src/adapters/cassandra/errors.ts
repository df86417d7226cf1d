import { errors, types } from 'cassandra-driver';
import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

const codes = types.responseErrorCodes;

// Server error codes of the native protocol (the driver's types.responseErrorCodes).
const serverCodes: ReadonlyMap<number, { reason: ErrorReason; retryable?: boolean }> = new Map([
  [codes.readTimeout, { reason: 'timeout' }],
  [codes.writeTimeout, { reason: 'timeout' }],
  // Too few replicas alive for the consistency level.
  [codes.unavailableException, { reason: 'unavailable' }],
  [codes.isBootstrapping, { reason: 'unavailable' }],
  // The node lost the prepared statement (restarted): the driver prepares it again on the next try.
  [codes.unprepared, { reason: 'unavailable' }],
  [codes.overloaded, { reason: 'rate_limited' }],
  [codes.badCredentials, { reason: 'unauthorized' }],
  [codes.unauthorized, { reason: 'unauthorized' }],
  [codes.syntaxError, { reason: 'validation', retryable: false }],
  [codes.invalid, { reason: 'validation', retryable: false }],
  [codes.configError, { reason: 'config', retryable: false }],
  [codes.alreadyExists, { reason: 'conflict', retryable: false }],
  // A function of the statement failed on its arguments (`blobAsInt` of 3 bytes): the statement's.
  [codes.functionFailure, { reason: 'validation', retryable: false }],
  // Replicas answered with a failure (a tombstone limit, a disk): trying again fails the same way.
  [codes.readFailure, { reason: 'internal' }],
  [codes.writeFailure, { reason: 'internal' }],
  [codes.serverError, { reason: 'internal' }],
  [codes.protocolError, { reason: 'internal' }],
]);

// The server's answer when the schema the adapter expects is not there.
const missingSchema = /^unconfigured table|^Keyspace .* does not exist/i;

// The server's message names the user: say what happened without it.
const authenticationFailed: ErrorClassification = {
  reason: 'unauthorized',
  message: 'authentication failed: check the Cassandra credentials',
};

/** Maps a `cassandra-driver` error to berth's reasons. */
export function classifyCassandraError(error: unknown): ErrorClassification {
  if (error instanceof errors.ResponseError) {
    const code: types.responseErrorCodes = error.code;
    if (code === codes.badCredentials) return authenticationFailed;
    if (code === codes.invalid && missingSchema.test(error.message))
      return {
        reason: 'config',
        retryable: false,
        message: `${error.message}: create the keyspace and tables, or set createSchema`,
      };
    return serverCodes.get(code) ?? { reason: 'internal' };
  }
  if (error instanceof errors.AuthenticationError) return authenticationFailed;
  if (error instanceof errors.NoHostAvailableError) return classifyNoHost(error);
  if (error instanceof errors.OperationTimedOutError) return { reason: 'timeout' };
  if (error instanceof errors.BusyConnectionError) return { reason: 'rate_limited' };
  if (error instanceof errors.ArgumentError) return { reason: 'validation', retryable: false };
  return classifyTlsError(error) ?? { reason: 'internal' };
}

// Every host failing for the same client-side reason says more than "no host": a wrong password
// retried would only trip the breaker, and busy connections are back-pressure, not an outage.
function classifyNoHost(error: errors.NoHostAvailableError): ErrorClassification {
  const inner: unknown[] = Object.values((error.innerErrors ?? {}) as Record<string, unknown>);
  const reasons = new Set(inner.map((cause) => classifyCassandraError(cause).reason));
  if (reasons.size === 1 && reasons.has('unauthorized')) return authenticationFailed;
  // A handshake every node fails the same way (an untrusted certificate…) is the settings'.
  const tls = inner.map((cause) => classifyTlsError(cause));
  if (tls.length > 0 && tls.every((each) => each !== undefined && each.message === tls[0]?.message))
    return tls[0]!;
  if (reasons.size === 1 && reasons.has('rate_limited'))
    return { reason: 'rate_limited', message: 'every connection to the Cassandra nodes is busy' };
  return { reason: 'unavailable' };
}
