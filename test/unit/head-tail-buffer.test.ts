import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeadTailBuffer } from '../../src/runtime/executor/head-tail-buffer.ts';

// What the buffer must hold: the whole stream when it fits, else its head and tail halves.
function expected(all: Buffer, maxBytes: number): Buffer {
  if (all.length <= maxBytes) return all;
  const head = Math.floor(maxBytes / 2);
  const tail = maxBytes - head;
  return Buffer.concat([all.subarray(0, head), all.subarray(all.length - tail)]);
}

function randomChunks(seed: number, count: number, maxChunk: number): Buffer[] {
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31);
  let counter = 0;
  return Array.from({ length: count }, () =>
    Buffer.from(Array.from({ length: next() % (maxChunk + 1) }, () => counter++ % 251)),
  );
}

describe('HeadTailBuffer', () => {
  it('keeps everything while it fits', () => {
    const buffer = new HeadTailBuffer(10);
    buffer.write(Buffer.from('hello'));
    buffer.write(Buffer.from('world'));
    assert.equal(buffer.bytes().toString(), 'helloworld');
    assert.equal(buffer.truncated, false);
    assert.equal(buffer.total, 10);
  });

  it('keeps the head and the tail once the stream is longer, for any chunking', () => {
    for (const maxBytes of [0, 1, 2, 7, 64, 1000]) {
      for (let seed = 1; seed <= 20; seed++) {
        for (const maxChunk of [1, 5, 100, 3000]) {
          const chunks = randomChunks(seed, 40, maxChunk);
          const buffer = new HeadTailBuffer(maxBytes);
          for (const chunk of chunks) buffer.write(chunk);
          const all = Buffer.concat(chunks);
          assert.deepEqual(
            buffer.bytes(),
            expected(all, maxBytes),
            `max ${maxBytes} seed ${seed} chunk ${maxChunk}`,
          );
          assert.equal(buffer.truncated, all.length > maxBytes);
          assert.equal(buffer.total, all.length);
        }
      }
    }
  });

  it('holds no more than maxBytes however much is written', () => {
    const buffer = new HeadTailBuffer(1024);
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 1024; i++) buffer.write(chunk);
    assert.equal(buffer.total, 64 * 1024 * 1024);
    assert.equal(buffer.bytes().length, 1024);
  });
});
