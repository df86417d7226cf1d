import assert from 'node:assert/strict';
import { isInfraError, type ErrorReason, type InfraError } from '../ports/errors.ts';

function expectInfraError(error: unknown, reason: ErrorReason): error is InfraError {
  assert.ok(isInfraError(error), `expected an InfraError, got ${String(error)}`);
  assert.equal(error.reason, reason, error.message);
  return true;
}

/** Asserts that `promise` rejects with an InfraError of `reason`, and returns that error. */
export async function rejectsWith(promise: Promise<unknown>, reason: ErrorReason): Promise<InfraError> {
  let caught: InfraError | undefined;
  await assert.rejects(
    promise,
    (error: unknown) => expectInfraError(error, reason) && ((caught = error), true),
  );
  return caught!;
}

/** Asserts that `fn` throws an InfraError of `reason` synchronously. */
export function throwsWith(fn: () => unknown, reason: ErrorReason): void {
  assert.throws(fn, (error: unknown) => expectInfraError(error, reason));
}
