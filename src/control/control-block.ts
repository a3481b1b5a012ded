// The control block: one SharedArrayBuffer that the main thread creates and every worker thread
// receives in `workerData`. It is the only state the threads share; everything in it is read and
// written with Atomics. Int32 slots can be waited on (Atomics.waitAsync); epoch times in ms live in
// BigInt64 slots because they do not fit in 32 bits.
//
// The protocol that uses these slots is in cooldown.ts (gate, 429 reporting), permits.ts (in-flight
// limit and ramp), cooldown-keeper.ts (the main thread, the only one that ends a cooldown),
// outage.ts (the pause while the endpoint is down), stop.ts (stopping a run), thread-slots.ts
// (permits held by each thread, for crash recovery), rate-budget.ts (the RPM/TPM budgets) and
// lease-credit.ts (a distributed run's leased share of them).
// cooldown-keeper.ts is the main thread's cooldown closer; a worker closes one only when the main
// thread is late (cooldown.ts).

/** Int32 slot indices. */
export const I32 = {
  /**
   * Cooldown generation. Even = open, odd = cooling down. Only ever increases: a worker moves it
   * from even g to odd g + 1 (opening a cooldown, by compare-and-swap, so exactly one attempt opens
   * each cooldown); only the main thread moves it from odd to even (ending the cooldown).
   */
  GEN: 0,
  /** Attempts allowed in flight right now, across all threads. The ramp lowers and raises it. */
  LIMIT: 1,
  /** Attempts in flight right now, across all threads. Changed only by permit take / release. */
  IN_FLIGHT: 2,
  /** Cooldowns opened in a row without a success in between; escalates the default pause. */
  STREAK: 3,
  /** The highest LIMIT may ramp up to (the run's `concurrency`). */
  CEILING: 4,
  /** Cooldowns opened, for progress and summaries (monotonic, never waited on). */
  COOLDOWNS: 5,
  /**
   * 0 = running, 1 = draining (attempts on the wire finish, nothing new starts), 2 = cancelling
   * (attempts on the wire are aborted too). Only ever increases; written only by the main thread.
   */
  STOP: 6,
  /** `concurrency`: the most CEILING may climb back to after cooldowns lowered it. */
  MAX_CEILING: 7,
  /** Successes since CEILING last grew (additive increase: +1 per CEILING successes). */
  SUCCESSES: 8,
  /**
   * Attempts waiting at the gate for a cooldown to end, for the trace's "how many waited" (only
   * touched while a cooldown is open, never on the hot path).
   */
  WAITING: 9,
  /** The in-flight limit right after a cooldown (`rampStart`). Written once by the main thread. */
  RAMP_START: 10,
  /**
   * The last (odd) cooldown generation whose end has been claimed. Whoever moves it up to `gen`
   * by compare-and-swap — the keeper, or a worker when the keeper is late — is the one that ends
   * cooldown `gen` (cooldown.ts, endCooldown): still exactly one closer per cooldown.
   */
  CLOSING: 11,
  /**
   * The run-wide cooldown generation of a distributed run (in Redis, distributed/scripts.ts), as
   * last seen here; 0 on a single machine. Its one writer is the main thread's mirror of Redis
   * (distributed/cooldown-mirror.ts). Attempts read it when they are sent, so that their 429s can
   * be reported with the global generation they belong to (a stale one opens nothing anywhere).
   */
  GLOBAL_GEN: 12,
  /**
   * 1 when the rate budgets are leased from a distributed run (lease-credit.ts): an attempt then
   * also needs leased credit in each limited bucket. Written once, by the main thread.
   */
  LEASED: 13,
  /** Bumped (and notified) by the main thread whenever it adds leased credit; attempts short of credit wait on it. */
  CREDIT_ADDED: 14,
  /** Bumped (and notified) by an attempt that found its credit short; the main thread's leaser waits on it. */
  CREDIT_SHORT: 15,
  /**
   * The last (odd) generation opened for an outage rather than a rate limit (outage.ts). Its
   * opener stores it right after winning the compare-and-swap on GEN and before it publishes the
   * end in COOLDOWN, so whoever sees that end published (the keeper) also sees the reason.
   */
  OUTAGE_GEN: 16,
  /**
   * Outage signals (a connection that failed, 502/503/504, an attempt timeout) in a row, across
   * all threads, from requests sent in the open generation; any answer of the endpoint to a request
   * sent in the open generation sets it back to 0. At OUTAGE_THRESHOLD an outage pause opens.
   */
  OUTAGE_FAILS: 17,
  /** What the last outage signal was: an HTTP status (502/503/504), or 1 (no connection), 2 (timed out). */
  OUTAGE_CAUSE: 18,
  /** Outage pauses opened, for summaries (monotonic, never waited on). */
  OUTAGES: 19,
  /**
   * The window of the in-flight ceiling: bumped each time attempt timeouts lower CEILING. An attempt
   * remembers it when it is sent; a timeout of an attempt sent in an older window is already paid
   * for, so a burst of timeouts halves the ceiling once (permits.ts, ceilingAfterTimeout).
   */
  CEILING_WINDOW: 20,
} as const;

const I32_SLOTS = 21;

/** BigInt64 slot indices (their own index space, in the same buffer after the Int32 slots). */
export const I64 = {
  /**
   * The cooldown's end, packed with the generation it belongs to: `gen * 2^33 + (untilMs - EPOCH)`.
   * Packing makes "which cooldown does this end time belong to" part of the one atomic word, so a
   * reader can never pair an odd GEN with the end time of an older cooldown (see cooldown.ts).
   * For a given generation the end time only ever grows (atomic max by compare-and-swap).
   */
  COOLDOWN: 0,
  /** Epoch ms when the block was made; COOLDOWN stores times relative to it. Written once. */
  EPOCH: 1,
  /**
   * The proactive rate budgets (rate-budget.ts), one pair per bucket, as in the generic cell rate
   * algorithm: the "theoretical arrival time" (ns after EPOCH) at which the bucket's next unit is
   * free, and the interval per unit in ns (0 = no limit). Only tightened by what servers say.
   */
  REQUESTS_TAT: 2,
  REQUESTS_INTERVAL: 3,
  TOKENS_TAT: 4,
  TOKENS_INTERVAL: 5,
  /**
   * Requests sent and 429s received, for progress and summaries (monotonic, never waited on).
   * 64-bit: a 32-bit count goes negative after 2^31 requests, 2.5 days at 10k requests a second.
   */
  REQUESTS: 6,
  RATE_LIMITED: 7,
  /**
   * Leased credit of a distributed run (lease-credit.ts), per bucket: units this process may still
   * use of the slices the run's budget in Redis handed it. Taken by attempts (compare-and-swap,
   * never below zero), added by the main thread's leaser; a charge for usage beyond an estimate may
   * take it below zero (a debt the next slice pays).
   */
  REQUESTS_CREDIT: 8,
  TOKENS_CREDIT: 9,
  /** The largest single take that found the bucket's credit short since the leaser last looked (atomic max). */
  REQUESTS_WANTED: 10,
  TOKENS_WANTED: 11,
  /**
   * When the outage in progress began: ms after EPOCH, plus 1 (0 = the endpoint answers). The
   * first outage pause of an episode sets it (compare-and-swap from 0); the endpoint's first answer
   * to a request sent since clears it. The keeper measures the outage patience from it.
   */
  OUTAGE_SINCE: 12,
} as const;

const I64_SLOTS = 13;
// BigInt64Array needs an 8-byte aligned offset.
const I64_OFFSET = Math.ceil((I32_SLOTS * 4) / 8) * 8;

export interface ControlBlock {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  /**
   * Per-thread slots, two Int32 words each: [owner threadId (0 = free), permits it holds]. A thread
   * that dies cannot release its permits; the main thread gives them back from here.
   */
  readonly threadSlots: Int32Array;
}

const THREAD_OFFSET = I64_OFFSET + I64_SLOTS * 8;

/** Views over an existing control-block buffer (what a worker thread does with its workerData). */
export function attachControlBlock(buffer: SharedArrayBuffer): ControlBlock {
  return {
    buffer,
    i32: new Int32Array(buffer, 0, I32_SLOTS),
    i64: new BigInt64Array(buffer, I64_OFFSET, I64_SLOTS),
    threadSlots: new Int32Array(buffer, THREAD_OFFSET),
  };
}

/**
 * A new control block: generation 0 (open), `concurrency` permits, nothing in flight, and room
 * for `threadSlots` threads (live ones and their replacements at once).
 */
export function createControlBlock(concurrency: number, threadSlots = 64): ControlBlock {
  const block = attachControlBlock(new SharedArrayBuffer(THREAD_OFFSET + threadSlots * 2 * 4));
  Atomics.store(block.i32, I32.LIMIT, concurrency);
  Atomics.store(block.i32, I32.CEILING, concurrency);
  Atomics.store(block.i32, I32.MAX_CEILING, concurrency);
  Atomics.store(block.i64, I64.EPOCH, BigInt(Date.now()));
  return block;
}

/** Counts one of the 64-bit counters up (REQUESTS, RATE_LIMITED). */
export function countUp(block: ControlBlock, counter: typeof I64.REQUESTS | typeof I64.RATE_LIMITED): void {
  Atomics.add(block.i64, counter, 1n);
}

/** Reads a 64-bit counter as a number (exact up to 2^53). */
export function readCount(block: ControlBlock, counter: typeof I64.REQUESTS | typeof I64.RATE_LIMITED): number {
  return Number(Atomics.load(block.i64, counter));
}
