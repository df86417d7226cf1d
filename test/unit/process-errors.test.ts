import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyProcessError } from '../../src/adapters/process/index.ts';

const errno = (code: string): Error => Object.assign(new Error(`spawn /usr/bin/tool ${code}`), { code });

describe('classifyProcessError', () => {
  const table: [string, string, boolean][] = [
    ['ENOENT', 'not_found', false],
    ['ENOTDIR', 'not_found', false],
    ['EACCES', 'unauthorized', false],
    ['EPERM', 'unauthorized', false],
    ['ENOEXEC', 'validation', false],
    ['E2BIG', 'validation', false],
    ['ENAMETOOLONG', 'validation', false],
    ['ELOOP', 'validation', false],
    ['EAGAIN', 'unavailable', true],
    ['EMFILE', 'unavailable', true],
    ['ENFILE', 'unavailable', true],
    ['ENOMEM', 'unavailable', true],
    ['ETXTBSY', 'unavailable', true],
    ['EWHATEVER', 'internal', false],
  ];
  for (const [code, reason, retryable] of table) {
    it(`${code} → ${reason}`, () => {
      const classified = classifyProcessError(errno(code));
      assert.equal(classified.reason, reason);
      // The guard applies each reason's default when the table says nothing.
      assert.equal(
        classified.retryable ?? ['unavailable', 'timeout', 'rate_limited'].includes(reason),
        retryable,
      );
    });
  }

  it('gives resource errors a message that says what ran out', () => {
    assert.match(classifyProcessError(errno('EAGAIN')).message ?? '', /limit on processes/);
    assert.match(classifyProcessError(errno('EMFILE')).message ?? '', /open files/);
  });

  it('treats anything without an errno code as internal', () => {
    for (const value of [new Error('odd'), 'text', null, undefined, { code: 42 }]) {
      assert.equal(classifyProcessError(value).reason, 'internal');
    }
  });
});
