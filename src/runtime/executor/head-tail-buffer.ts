/**
 * Collects a byte stream in at most `maxBytes` of memory: everything while it fits, then
 * the first half and a ring buffer of the last half, however long the stream runs.
 */
export class HeadTailBuffer {
  readonly maxBytes: number;
  #chunks: Buffer[] = [];
  #head: Buffer | undefined = undefined;
  #ring: Buffer | undefined = undefined;
  // Where the next byte goes in the ring, and how many of its bytes hold data.
  #ringEnd = 0;
  #ringLength = 0;
  /** Bytes written in all, kept or not. */
  total = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get truncated(): boolean {
    return this.total > this.maxBytes;
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.#ring !== undefined) return this.#writeRing(chunk);
    this.#chunks.push(chunk);
    if (this.total <= this.maxBytes) return;
    // First overflow: keep the head, and let the ring take the rest.
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [];
    const headBytes = Math.floor(this.maxBytes / 2);
    this.#head = Buffer.from(all.subarray(0, headBytes));
    this.#ring = Buffer.alloc(this.maxBytes - headBytes);
    this.#writeRing(all.subarray(headBytes));
  }

  #writeRing(chunk: Buffer): void {
    const ring = this.#ring!;
    if (ring.length === 0) return;
    if (chunk.length >= ring.length) {
      chunk.copy(ring, 0, chunk.length - ring.length);
      this.#ringEnd = 0;
      this.#ringLength = ring.length;
      return;
    }
    const first = Math.min(chunk.length, ring.length - this.#ringEnd);
    chunk.copy(ring, this.#ringEnd, 0, first);
    chunk.copy(ring, 0, first);
    this.#ringEnd = (this.#ringEnd + chunk.length) % ring.length;
    this.#ringLength = Math.min(ring.length, this.#ringLength + chunk.length);
  }

  /** The bytes kept: all of them, or the head followed by the tail. */
  bytes(): Buffer {
    if (this.#ring === undefined) return Buffer.concat(this.#chunks);
    const ring = this.#ring;
    const start = (this.#ringEnd - this.#ringLength + ring.length) % ring.length;
    const tail =
      start + this.#ringLength <= ring.length
        ? ring.subarray(start, start + this.#ringLength)
        : Buffer.concat([ring.subarray(start), ring.subarray(0, this.#ringEnd)]);
    return Buffer.concat([this.#head!, tail]);
  }
}
