// Item latencies for the summary's percentiles, in a fixed few kilobytes whatever the run's size.
//
// Keeping every latency (8 bytes an item, in an array that doubles) grew with the input: a
// million items held 8–24 MB, and sorting a copy at the end doubled it. A run's memory must be
// bounded by its concurrency, not by its input (issue 12 point 5), so latencies go into
// logarithmic buckets instead (the DDSketch layout): bucket i counts the values in
// (γ^(i-1), γ^i] and reports 2γ^i / (γ + 1), within α = (γ − 1) / (γ + 1) of any value in it.
// With γ = 1.02 that is 1 %, finer than the summary's rounding to whole milliseconds above 100 ms.
// Exact minimum and maximum clamp the estimates, so p100 and a one-item run report exact values.

const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);
/** 1 µs: anything shorter counts as this (latencies are in ms). */
const MIN_MS = 1e-3;
/** 10^8 ms (~28 h): anything longer counts as this. */
const MAX_MS = 1e8;
const OFFSET = Math.ceil(Math.log(MIN_MS) / LOG_GAMMA);
const BUCKETS = Math.ceil(Math.log(MAX_MS) / LOG_GAMMA) - OFFSET + 1;

/** The sketch's largest relative error of a reported percentile (before clamping to min/max). */
export const LATENCY_RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1);

export class LatencySketch {
  readonly #counts = new Float64Array(BUCKETS);
  #zeros = 0;
  #count = 0;
  #min = Infinity;
  #max = -Infinity;

  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    this.#count += 1;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
    // A zero (a cached answer, an item never started) has no logarithm: it has its own count.
    if (!(ms > 0)) {
      this.#zeros += 1;
      return;
    }
    const clamped = Math.min(MAX_MS, Math.max(MIN_MS, ms));
    const index = Math.min(BUCKETS - 1, Math.max(0, Math.ceil(Math.log(clamped) / LOG_GAMMA) - OFFSET));
    this.#counts[index] = (this.#counts[index] as number) + 1;
  }

  /** The p-th percentile (0 < p ≤ 100): the value of rank ⌈p/100 × count⌉, as sorted; 0 when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    if (rank >= this.#count) return this.#max;
    if (rank <= this.#zeros) return Math.max(0, this.#min);
    let seen = this.#zeros;
    for (let index = 0; index < BUCKETS; index += 1) {
      seen += this.#counts[index] as number;
      if (seen >= rank) {
        const estimate = (2 * GAMMA ** (index + OFFSET)) / (GAMMA + 1);
        return Math.min(this.#max, Math.max(this.#min, estimate));
      }
    }
    return this.#max;
  }
}
