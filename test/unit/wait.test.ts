// The shared poll of the tests (test/support/wait.ts): the leader-lost test relies on its failure
// saying what was last seen, the Redis tests on a rejected check counting as not yet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../support/wait.ts';

describe('waitFor', () => {
  it('resolves the time it took once the check holds', async () => {
    let calls = 0;
    const ms = await waitFor('three calls', () => ++calls === 3, 1_000, { everyMs: 5 });
    assert.equal(calls, 3);
    assert.ok(ms >= 0 && ms < 1_000, `took ${ms} ms`);
  });

  it('fails past the bound, naming what it waited for and what it last saw', async () => {
    await assert.rejects(
      waitFor('health up', () => false, 30, { everyMs: 5, saw: () => 'down' }),
      {
        name: 'AssertionError',
        message: 'health up: not within 30 ms; down',
      },
    );
  });

  it('fails at once on a rejected check, unless told to count it as not yet', async () => {
    await assert.rejects(
      waitFor('a call', () => Promise.reject(new Error('refused')), 1_000),
      /refused/,
    );
    let calls = 0;
    const check = () => (++calls < 3 ? Promise.reject(new Error('refused')) : Promise.resolve(true));
    await waitFor('a call', check, 1_000, { everyMs: 5, ignoreErrors: true });
    assert.equal(calls, 3);
  });
});
