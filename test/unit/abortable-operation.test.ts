import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortableOperation, isAborted, onAbort } from '../../src/runtime/guard/abortable-operation.ts';

describe('AbortableOperation', () => {
  it('calls each listener once with the reason, not one that stopped listening', () => {
    const operation = new AbortableOperation();
    const heard: unknown[] = [];
    onAbort(operation, (reason) => heard.push(['first', reason]));
    const stop = onAbort(operation, (reason) => heard.push(['stopped', reason]));
    stop();
    assert.equal(isAborted(operation), false);
    const reason = new Error('deadline');
    operation.abort(reason);
    operation.abort(new Error('again'));
    assert.deepEqual(heard, [['first', reason]]);
    assert.equal(isAborted(operation), true);
  });

  it('does not call a listener added after the abort, as addEventListener would not', () => {
    const operation = new AbortableOperation();
    operation.abort('gone');
    let called = false;
    onAbort(operation, () => (called = true))();
    assert.equal(called, false);
  });

  it('gives a signal that is aborted with the reason, whether read before or after the abort', () => {
    const before = new AbortableOperation();
    const signal = before.signal;
    before.abort('late');
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, 'late');
    const after = new AbortableOperation();
    after.abort('early');
    assert.equal(after.signal.aborted, true);
    assert.equal(after.signal.reason, 'early');
  });

  it('listens on the signal of a context without onAbort', () => {
    const controller = new AbortController();
    const heard: unknown[] = [];
    const stop = onAbort({ signal: controller.signal }, (reason) => heard.push(reason));
    assert.equal(isAborted({ signal: controller.signal }), false);
    controller.abort('x');
    stop();
    assert.deepEqual(heard, ['x']);
    assert.equal(isAborted({ signal: controller.signal }), true);
  });
});
