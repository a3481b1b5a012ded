// The in-flight limit and the ramp. IN_FLIGHT counts attempts on the wire across all threads;
// an attempt may start only while IN_FLIGHT < LIMIT. After a cooldown the keeper lowers LIMIT to
// the ramp's start; every success raises it by one up to CEILING (so the limit doubles per round
// trip, like TCP slow start). No thundering herd: a cooldown's end releases only LIMIT attempts.
//
// Each permit is also counted in the taking thread's slot (thread-slots.ts), so the permits of a
// thread that dies can be given back.

import { waitForChange } from './atomic-wait.js';
import { I32, type ControlBlock } from './control-block.js';
import { interruptible } from './interrupt.js';
import { addThreadPermits } from './thread-slots.js';

/** Takes one in-flight permit if one is free now; false if all are taken. */
export function tryTakePermit(block: ControlBlock, slot: number): boolean {
  const { i32 } = block;
  for (;;) {
    const inFlight = Atomics.load(i32, I32.IN_FLIGHT);
    if (inFlight >= Atomics.load(i32, I32.LIMIT)) return false;
    // Count it in our slot first: should the thread die between the two steps, the main thread
    // gives back one permit it never had, and IN_FLIGHT stays one below the truth for the rest
    // of the run — one attempt over the limit, for good. The other order would lose a permit
    // for good instead, which at a low ramp limit can close the gate; one over is the lesser harm.
    addThreadPermits(block, slot, 1);
    if (Atomics.compareExchange(i32, I32.IN_FLIGHT, inFlight, inFlight + 1) === inFlight) return true;
    addThreadPermits(block, slot, -1);
    // another attempt took it first; look again
  }
}

/**
 * Take one in-flight permit, waiting (without blocking the thread) until one is free. The wait
 * is cut short by `clock.interrupt`, read only when there is a wait.
 */
export async function takePermit(block: ControlBlock, slot: number, clock?: { readonly interrupt: Promise<never> }): Promise<void> {
  const { i32 } = block;
  for (;;) {
    // Read before trying: a release between this read and a failed try changes IN_FLIGHT from
    // this value, and the wait below returns at once instead of missing it.
    const inFlight = Atomics.load(i32, I32.IN_FLIGHT);
    if (tryTakePermit(block, slot)) return;
    // Woken by a release (IN_FLIGHT changes) or by a raise of LIMIT (which notifies IN_FLIGHT).
    await interruptible(waitForChange(i32, I32.IN_FLIGHT, inFlight), clock?.interrupt);
  }
}

// Every change of IN_FLIGHT or LIMIT wakes *every* waiter on IN_FLIGHT, not one: a waiter may be
// a wait left behind by an item whose deadline cut it short, or belong to a thread busy in
// CPU-heavy task code, and a single wake-up spent on it is lost to the threads that could use
// the permit. Waits are shared per thread and word (atomic-wait.ts), so "every" is one per thread.

export function releasePermit(block: ControlBlock, slot: number): void {
  Atomics.sub(block.i32, I32.IN_FLIGHT, 1);
  addThreadPermits(block, slot, -1);
  Atomics.notify(block.i32, I32.IN_FLIGHT);
}


/**
 * As a cooldown ends: cooldowns in a row (no success of a request sent in between) mean the
 * ceiling itself is too high, so halve it — the multiplicative decrease; recordSuccess below is
 * the additive increase. Returns the ceiling before and after (the ramp may climb back to `to`).
 */
export function ceilingAfterCooldown(block: ControlBlock): { from: number; to: number } {
  const { i32 } = block;
  const from = Atomics.load(i32, I32.CEILING);
  if (Atomics.load(i32, I32.STREAK) < 2) return { from, to: from };
  const to = Math.max(1, Math.floor(from / 2));
  Atomics.store(i32, I32.CEILING, to);
  Atomics.store(i32, I32.SUCCESSES, 0);
  return { from, to };
}

/**
 * A success: the streak of cooldowns is broken and the ramp grows by one. Once the ramp is at its
 * ceiling and the ceiling is below `concurrency` (cooldowns in a row lowered it), every CEILING
 * successes raise the ceiling by one: additive increase, after the keeper's multiplicative decrease.
 * Returns what it raised, for the trace, as one number (no object: this runs once per success):
 * 0 for nothing (the common case), the new limit when it raised the limit, minus the new ceiling
 * when it raised the ceiling. The new value comes from the compare-and-swap itself; reading the
 * slot again could already see another thread's raise.
 */
export function recordSuccess(block: ControlBlock, sentInGen: number): number {
  const { i32 } = block;
  // Only an answer to a request sent since the last cooldown opened breaks the streak: answers to
  // requests from before it say nothing about the pace that caused it. Load first: most
  // successes find the streak already 0, and a store would bounce the cache line.
  if (Atomics.load(i32, I32.STREAK) !== 0 && Atomics.load(i32, I32.GEN) === sentInGen) Atomics.store(i32, I32.STREAK, 0);
  for (;;) {
    const limit = Atomics.load(i32, I32.LIMIT);
    const ceiling = Atomics.load(i32, I32.CEILING);
    if (limit >= ceiling) {
      if (ceiling < Atomics.load(i32, I32.MAX_CEILING) && Atomics.add(i32, I32.SUCCESSES, 1) + 1 >= ceiling) {
        Atomics.store(i32, I32.SUCCESSES, 0);
        if (Atomics.compareExchange(i32, I32.CEILING, ceiling, ceiling + 1) === ceiling) return -(ceiling + 1);
      }
      return 0;
    }
    if (Atomics.compareExchange(i32, I32.LIMIT, limit, limit + 1) === limit) {
      Atomics.notify(i32, I32.IN_FLIGHT);
      return limit + 1;
    }
  }
}

/** The ceiling's window now: an attempt remembers it when it is sent (see ceilingAfterTimeout). */
export function ceilingWindow(block: ControlBlock): number {
  return Atomics.load(block.i32, I32.CEILING_WINDOW);
}

/**
 * An attempt sent in ceiling window `sentInWindow` timed out while the endpoint still answers
 * others: more in flight than it serves in time (requests queued inside a small server count
 * against the attempt timeout too). Halve the ceiling, and the limit with it — the multiplicative
 * decrease, as cooldowns in a row do. Only the first timeout of a window does so (compare-and-swap
 * on CEILING_WINDOW): the others were already on the wire before the decrease, and a burst of
 * timeouts must halve the ceiling once, not down to 1. Returns the ceiling before and after, or
 * null for a timeout of an older window. Attempts on the wire above the new limit finish; no new
 * one starts until IN_FLIGHT is below it.
 */
export function ceilingAfterTimeout(block: ControlBlock, sentInWindow: number): { from: number; to: number } | null {
  const { i32 } = block;
  if (Atomics.compareExchange(i32, I32.CEILING_WINDOW, sentInWindow, sentInWindow + 1) !== sentInWindow) return null;
  let from: number;
  let to: number;
  do {
    from = Atomics.load(i32, I32.CEILING);
    to = Math.max(1, Math.floor(from / 2));
  } while (Atomics.compareExchange(i32, I32.CEILING, from, to) !== from);
  Atomics.store(i32, I32.SUCCESSES, 0);
  for (;;) {
    const limit = Atomics.load(i32, I32.LIMIT);
    if (limit <= to || Atomics.compareExchange(i32, I32.LIMIT, limit, to) === limit) break;
  }
  return { from, to };
}
