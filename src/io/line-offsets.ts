// Finding a line of the input file again while it is being streamed: where every 64th line
// starts (8 bytes per 64 lines), and a synchronous read of one line from there. The repeated-id
// check (id-fingerprints.ts) reads an earlier line back to confirm that two ids whose hashes are
// equal are the same id; that happens rarely (see there), so a read of at most 64 lines each time
// costs less than keeping every line's offset.

import { closeSync, openSync, readSync } from 'node:fs';

const NEWLINE = 0x0a;
const EVERY_BITS = 6;
const EVERY = 1 << EVERY_BITS;
const CHUNK = 1 << 16;

export class LineOffsets {
  readonly #path: string;
  /** Start of line `k × EVERY + 1`, at index k. */
  #starts = new Float64Array(1024);
  /** Lines noted so far. */
  #lines = 0;
  #fd: number | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  /** The next line (1-based, in order) starts at byte `start`. */
  note(start: number): void {
    const line = this.#lines;
    this.#lines += 1;
    if ((line & (EVERY - 1)) !== 0) return;
    const index = line >>> EVERY_BITS;
    if (index >= this.#starts.length) {
      const grown = new Float64Array(this.#starts.length * 2);
      grown.set(this.#starts);
      this.#starts = grown;
    }
    this.#starts[index] = start;
  }

  /** The bytes of line `line` (1-based, one already noted) without its line ending; null if the file no longer has it. */
  read(line: number): Buffer | null {
    if (line < 1 || line > this.#lines) return null;
    this.#fd ??= openSync(this.#path, 'r');
    const index = (line - 1) >>> EVERY_BITS;
    let position = this.#starts[index] as number;
    // Lines to pass over before ours.
    let skip = line - 1 - index * EVERY;
    const parts: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const got = readSync(this.#fd, chunk, 0, CHUNK, position);
      if (got === 0) break;
      let start = 0;
      while (skip > 0) {
        const nl = chunk.indexOf(NEWLINE, start);
        if (nl === -1 || nl >= got) break;
        start = nl + 1;
        skip -= 1;
      }
      if (skip > 0) {
        position += got;
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl !== -1 && nl < got) {
        parts.push(chunk.subarray(start, nl));
        break;
      }
      parts.push(chunk.subarray(start, got));
      position += got;
    }
    if (skip > 0) return null;
    const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    return bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
