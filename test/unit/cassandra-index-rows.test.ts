import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  indexSlackSeconds,
  indexTtlSeconds,
  WrittenIndexRows,
} from '../../src/adapters/cassandra/index-rows.ts';

// The refresh rule alone, on a clock of the test's own (no node needed).
describe('cassandra index rows: when one is written again', () => {
  it('gives TTLs of ten minutes and more a slack of a tenth, at most an hour, and none past the largest TTL', () => {
    assert.deepEqual(
      [0, 2, 599, 600, 3_602, 36_000, 86_402, 630_720_000 - 3_600, 630_720_000 - 3_599].map(
        indexSlackSeconds,
      ),
      [0, 0, 0, 60, 361, 3_600, 3_600, 3_600, 0],
    );
    assert.deepEqual([0, 2, 3_602].map(indexTtlSeconds), [0, 2, 3_963]);
  });

  it("writes a TTL'd row again after half its slack, a permanent one never, a short-lived one always", () => {
    const rows = new WrittenIndexRows(10);
    const at = (monotonic: number, wall = 1e12 + monotonic) => ({ monotonic, wall });
    assert.equal(rows.isDue('hour', at(1_000)), true, 'never written');
    rows.written('hour', 3_602, at(1_000));
    rows.written('forever', 0, at(1_000));
    rows.written('second', 2, at(1_000));
    // Half of 361 s after it was sent.
    assert.equal(rows.isDue('hour', at(1_000 + 180_499)), false);
    assert.equal(rows.isDue('hour', at(1_000 + 180_500)), true);
    // Either clock: the monotonic one stood still while the machine slept, or the wall clock was set back.
    assert.equal(rows.isDue('hour', at(1_000, 1e12 + 1_000 + 180_500)), true);
    assert.equal(rows.isDue('hour', at(1_000 + 180_500, 0)), true);
    assert.equal(rows.isDue('forever', at(1e12)), false);
    assert.equal(rows.isDue('second', at(1_000)), true);
    assert.equal(rows.size, 2);
  });

  it('forgets the least recently used row past its capacity', () => {
    const rows = new WrittenIndexRows(2);
    const now = { monotonic: 0, wall: 0 };
    rows.written('a', 0, now);
    rows.written('b', 0, now);
    assert.equal(rows.isDue('a', now), false); // used: b is now the oldest
    rows.written('c', 0, now);
    assert.equal(rows.size, 2);
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => rows.isDue(id, now)),
      [false, true, false],
    );
  });
});
