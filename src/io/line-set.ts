// A set of input line numbers (1-based), as one bit each: which lines of the input already have a
// line in the results file. Resume, the run's stop point and `batch-llm report` count the input
// lines that have none ("not started") from it; a million lines cost 125 kB, not a Set's ~40 MB.

export class LineSet {
  #bits = new Uint8Array(1 << 12);
  #size = 0;

  /** Distinct lines in the set. */
  get size(): number {
    return this.#size;
  }

  add(line: number): void {
    if (!Number.isInteger(line) || line < 1) return;
    const byte = line >>> 3;
    if (byte >= this.#bits.length) {
      let length = this.#bits.length;
      while (length <= byte) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (line & 7);
    const old = this.#bits[byte] ?? 0;
    if ((old & mask) !== 0) return;
    this.#bits[byte] = old | mask;
    this.#size += 1;
  }

  has(line: number): boolean {
    if (!Number.isInteger(line) || line < 1) return false;
    return ((this.#bits[line >>> 3] ?? 0) & (1 << (line & 7))) !== 0;
  }

  /** How many lines in the set are after `line`. */
  countAfter(line: number): number {
    let count = 0;
    const from = Math.max(0, line + 1);
    const firstWhole = Math.min(this.#bits.length * 8, (from + 7) & ~7);
    for (let l = from; l < firstWhole; l += 1) if (this.has(l)) count += 1;
    for (let byte = firstWhole >>> 3; byte < this.#bits.length; byte += 1) {
      let b = this.#bits[byte] ?? 0;
      while (b !== 0) {
        b &= b - 1;
        count += 1;
      }
    }
    return count;
  }
}
