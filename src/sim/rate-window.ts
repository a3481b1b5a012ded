/**
 * A sliding-window budget (requests or tokens) over the last `windowMs`: what the simulator's RPM and
 * TPM limits are made of. Admission is O(1) amortized: entries are appended in time order and expire
 * from the front.
 */
export class SlidingWindow {
  /** Budget per window (e.g. rpm × windowMs / 60000); may be fractional. */
  readonly limit: number;
  readonly windowMs: number;
  // Parallel queues of (time, cost), oldest first; entries before `#head` have expired.
  // Invariant: `#used` is the sum of the costs from `#head` on.
  #times: number[] = [];
  #costs: number[] = [];
  #head = 0;
  #used = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Drops entries that left the window by `now`: an entry at time t counts while now < t + windowMs. */
  #expire(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? Infinity) <= cutoff) {
      this.#used -= this.#costs[this.#head] ?? 0;
      this.#head++;
    }
    // Compact now and then, so the arrays do not grow with the total number of requests.
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#costs = this.#costs.slice(this.#head);
      this.#head = 0;
    }
    if (this.#head === this.#times.length) this.#used = 0; // no float drift once empty
  }

  /** Budget used within the window ending at `now`. */
  used(now: number): number {
    this.#expire(now);
    return this.#used;
  }

  /** Budget left at `now` (never negative). */
  remaining(now: number): number {
    return Math.max(0, this.limit - this.used(now));
  }

  /**
   * Milliseconds from `now` until `cost` more fits: 0 if it fits now, `Infinity` if it can never fit
   * (cost above the whole window's budget).
   */
  waitFor(now: number, cost: number): number {
    if (cost > this.limit) return Infinity;
    this.#expire(now);
    const excess = this.#used + cost - this.limit;
    if (excess <= 0) return 0;
    // Walk the oldest entries until enough budget would be freed; their expiry is the wait.
    let freed = 0;
    for (let i = this.#head; i < this.#times.length; i++) {
      freed += this.#costs[i] ?? 0;
      if (freed >= excess) return (this.#times[i] ?? now) + this.windowMs - now;
    }
    return this.windowMs; // unreachable while cost <= limit; a safe answer anyway
  }

  /** Charges `cost` at `now`. Call only after `waitFor(now, cost) === 0`. */
  add(now: number, cost: number): void {
    this.#times.push(now);
    this.#costs.push(cost);
    this.#used += cost;
  }

  /** Milliseconds from `now` until the window is empty again (OpenAI's `x-ratelimit-reset-*`). */
  resetIn(now: number): number {
    this.#expire(now);
    const newest = this.#times[this.#times.length - 1];
    return newest === undefined || this.#head === this.#times.length ? 0 : newest + this.windowMs - now;
  }
}
