// Proactive rate limits: two budgets in the control block — requests and tokens — so attempts go
// out at the endpoint's limit instead of bouncing off it with 429s. Each is a generic cell rate
// algorithm (GCRA) bucket in two 64-bit words: TAT, the time at which the bucket's next unit is
// free, and the interval per unit. Reserving n units is one compare-and-swap moving TAT forward
// by n intervals (~0.1 µs, no message to any other thread); the caller sends when its slot
// begins. In any window of length W at most rate·W units plus one request go out.
//
// Token reservations are estimates (prompt tokens counted with a real tokenizer, plus the answer's
// max_tokens); after the response the difference to the actual usage is charged, or given back
// as far as no later reservation stands on it (see refund).
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

/** Where a request's reservation ends in each bucket (ns after EPOCH; 0n in an unlimited one), for its refund. */
export interface RequestSlot {
  /** Epoch ms at which the request may be sent. */
  readonly at: number;
  readonly ends: Readonly<Record<Bucket, bigint>>;
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
  reserveRequest(tokens: number, nowMs: number): RequestSlot {
    const requestsAt = this.reserve('requests', 1, nowMs);
    const tokensAt = this.reserve('tokens', tokens, nowMs);
    const at = Math.max(requestsAt, tokensAt);
    if (requestsAt < at) this.#holdTo('requests', 1, at);
    if (tokensAt < at) this.#holdTo('tokens', tokens, at);
    return { at, ends: { requests: this.#end('requests', 1, at), tokens: this.#end('tokens', tokens, at) } };
  }

  /** Where `units` starting at `atMs` end in the bucket (0n when it has no limit). */
  #end(bucket: Bucket, units: number, atMs: number): bigint {
    const interval = Atomics.load(this.#i64, SLOTS[bucket].interval);
    return interval === 0n ? 0n : this.#ns(atMs) + BigInt(Math.ceil(units)) * interval;
  }

  /** Moves the bucket's next free unit to no earlier than `units` after `atMs`. */
  #holdTo(bucket: Bucket, units: number, atMs: number): void {
    const end = this.#end(bucket, units, atMs);
    if (end !== 0n) this.#atLeast(SLOTS[bucket].tat, end);
  }

  /**
   * Settles a request's reservation: gives back `units` it did not use (an estimate minus the
   * actual usage, or all of it for a request never sent), or, negative, charges what it used
   * beyond. A charge always counts. A refund may only give back what no later reservation
   * stands on: while the bucket's next free unit is still where this request's slot ends, the
   * slot shrinks; once a later request holds the time after it, pulling the bucket back would
   * hand that stretch out twice (seen: 4–7k tokens in one second at 60k a minute), and the
   * unused units are let go. (Below now, TAT just means a full budget: no credit is banked.)
   */
  refund(bucket: Bucket, units: number, slot: RequestSlot): void {
    const { tat: tatSlot, interval: intervalSlot } = SLOTS[bucket];
    const interval = Atomics.load(this.#i64, intervalSlot);
    if (interval === 0n || units === 0) return;
    const delta = BigInt(Math.round(units)) * interval;
    if (delta < 0n) {
      Atomics.sub(this.#i64, tatSlot, delta);
      return;
    }
    const end = slot.ends[bucket];
    Atomics.compareExchange(this.#i64, tatSlot, end, end - delta);
  }

  /**
   * Slows the bucket to at most `perMinute` units a minute, for good (learned limits only tighten).
   * Returns whether it did (the limit was tighter than the budget's).
   */
  slowTo(bucket: Bucket, perMinute: number): boolean {
    return this.#atLeast(SLOTS[bucket].interval, intervalFor(perMinute, this.#headroom));
  }

  /** The bucket's interval per unit, in ns (0n = no limit). */
  interval(bucket: Bucket): bigint {
    return Atomics.load(this.#i64, SLOTS[bucket].interval);
  }

  /** Slows the bucket to at least `intervalNs` per unit (a distributed run's, learned elsewhere); returns whether it did. */
  slowToInterval(bucket: Bucket, intervalNs: bigint): boolean {
    return this.#atLeast(SLOTS[bucket].interval, intervalNs);
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
