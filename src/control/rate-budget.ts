// Proactive rate limits: two budgets in the control block — requests and tokens — so attempts go
// out at the endpoint's limit instead of bouncing off it with 429s. Each is a generic cell rate
// algorithm (GCRA) bucket in two 64-bit words: TAT, the time at which the bucket's next unit is
// free, and the interval per unit. Reserving n units is one compare-and-swap moving TAT forward
// by n intervals (~0.1 µs, no message to any other thread); the caller sends when its slot
// begins. In any window of length W at most rate·W units plus one request go out.
//
// Token reservations are estimates (prompt tokens counted with a real tokenizer, plus the answer's
// max_tokens); after the response the difference to the actual usage is given back (or charged).
// Servers that send x-ratelimit-* headers tighten the budgets further (the pacer reads them,
// attempt/pacer.ts): their limit can only lower the rate, and an empty "remaining" holds the
// bucket until the server's budget has refilled a unit. This file knows nothing of HTTP.

import { I64, type ControlBlock } from './control-block.js';

export type Bucket = 'requests' | 'tokens';

const SLOTS: Record<Bucket, { tat: number; interval: number }> = {
  requests: { tat: I64.REQUESTS_TAT, interval: I64.REQUESTS_INTERVAL },
  tokens: { tat: I64.TOKENS_TAT, interval: I64.TOKENS_INTERVAL },
};

const NS_PER_MINUTE = 60_000_000_000;

/** The interval per unit (ns) that keeps `perMinute × headroom` units a minute. */
export function intervalFor(perMinute: number, headroom: number): bigint {
  return BigInt(Math.ceil(NS_PER_MINUTE / (perMinute * headroom)));
}

export class RateBudget {
  readonly #i64: BigInt64Array;
  readonly #epochMs: number;
  readonly #headroom: number;

  constructor(block: ControlBlock, headroom: number) {
    this.#i64 = block.i64;
    this.#epochMs = Number(Atomics.load(block.i64, I64.EPOCH));
    this.#headroom = headroom;
  }

  #ns(epochMs: number): bigint {
    return BigInt(Math.round((epochMs - this.#epochMs) * 1e6));
  }

  #ms(ns: bigint): number {
    return this.#epochMs + Number(ns) / 1e6;
  }

  /** Main thread, at the start: the configured limits (per minute), or undefined for none. */
  configure(bucket: Bucket, perMinute: number | undefined): void {
    Atomics.store(this.#i64, SLOTS[bucket].interval, perMinute === undefined ? 0n : intervalFor(perMinute, this.#headroom));
  }

  limited(bucket: Bucket): boolean {
    return Atomics.load(this.#i64, SLOTS[bucket].interval) !== 0n;
  }

  /**
   * Reserves `units` (>= 0) of the bucket; returns the epoch ms at which they may be used: now
   * when the budget is there, later when it is not.
   */
  reserve(bucket: Bucket, units: number, nowMs: number): number {
    const { tat: tatSlot, interval: intervalSlot } = SLOTS[bucket];
    const interval = Atomics.load(this.#i64, intervalSlot);
    if (interval === 0n) return nowMs;
    const now = this.#ns(nowMs);
    const cost = BigInt(Math.ceil(units)) * interval;
    for (;;) {
      const tat = Atomics.load(this.#i64, tatSlot);
      const start = tat > now ? tat : now;
      if (Atomics.compareExchange(this.#i64, tatSlot, tat, start + cost) === tat) return this.#ms(start);
    }
  }

  /**
   * Reserves one request of `tokens` tokens in both budgets; returns the epoch ms at which it may
   * be sent — the later of its two slots. The bucket whose slot came earlier is then held to the
   * send time as well: the request really goes out then, and a bucket that believed it went out
   * earlier would hand the same stretch of time to the next reservation, so that two requests
   * could leave together (seen when refunds pulled the token bucket back under a request bucket
   * that had fallen behind).
   */
  reserveRequest(tokens: number, nowMs: number): number {
    const requestsAt = this.reserve('requests', 1, nowMs);
    const tokensAt = this.reserve('tokens', tokens, nowMs);
    const sendAt = Math.max(requestsAt, tokensAt);
    if (requestsAt < sendAt) this.#holdTo('requests', 1, sendAt);
    if (tokensAt < sendAt) this.#holdTo('tokens', tokens, sendAt);
    return sendAt;
  }

  /** Moves the bucket's next free unit to no earlier than `units` after `atMs`. */
  #holdTo(bucket: Bucket, units: number, atMs: number): void {
    const interval = Atomics.load(this.#i64, SLOTS[bucket].interval);
    if (interval === 0n) return;
    this.#atLeast(SLOTS[bucket].tat, this.#ns(atMs) + BigInt(Math.ceil(units)) * interval);
  }

  /** Gives back `units` (or, negative, charges more), e.g. an estimate minus the actual usage. */
  refund(bucket: Bucket, units: number): void {
    const { tat, interval: intervalSlot } = SLOTS[bucket];
    const interval = Atomics.load(this.#i64, intervalSlot);
    if (interval === 0n || units === 0) return;
    // A plain atomic subtraction: TAT below now just means the budget is full (reserve takes
    // max(TAT, now)), so a refund can never bank credit beyond a full bucket.
    Atomics.sub(this.#i64, tat, BigInt(Math.round(units)) * interval);
  }

  /**
   * Slows the bucket to at most `perMinute` units a minute, for good (learned limits only tighten).
   * Returns whether it did (the limit was tighter than the budget's).
   */
  slowTo(bucket: Bucket, perMinute: number): boolean {
    return this.#atLeast(SLOTS[bucket].interval, intervalFor(perMinute, this.#headroom));
  }

  /** Holds the bucket's next unit back until `atMs` at the earliest (the server's budget is empty). */
  holdUntil(bucket: Bucket, atMs: number): void {
    this.#atLeast(SLOTS[bucket].tat, this.#ns(atMs));
  }

  /** Atomic max; returns whether it raised the slot. */
  #atLeast(slot: number, value: bigint): boolean {
    for (;;) {
      const current = Atomics.load(this.#i64, slot);
      if (current >= value) return false;
      if (Atomics.compareExchange(this.#i64, slot, current, value) === current) return true;
    }
  }
}
