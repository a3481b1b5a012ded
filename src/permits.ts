// The in-flight limit and the ramp. IN_FLIGHT counts attempts on the wire across all threads;
// an attempt may start only while IN_FLIGHT < LIMIT. After a cooldown the keeper lowers LIMIT to
// the ramp's start; every success raises it by one up to CEILING (so the limit doubles per round
// trip, like TCP slow start). No thundering herd: a cooldown's end releases only LIMIT attempts.

import { waitForChange } from './atomic-wait.js';
import { I32, type ControlBlock } from './control-block.js';

/** Take one in-flight permit, waiting (without blocking the thread) until one is free. */
export async function takePermit(block: ControlBlock): Promise<void> {
  const { i32 } = block;
  for (;;) {
    const inFlight = Atomics.load(i32, I32.IN_FLIGHT);
    if (inFlight < Atomics.load(i32, I32.LIMIT)) {
      if (Atomics.compareExchange(i32, I32.IN_FLIGHT, inFlight, inFlight + 1) === inFlight) return;
      continue; // another attempt took it first; look again
    }
    // Woken by a release (IN_FLIGHT changes) or by a raise of LIMIT (which notifies IN_FLIGHT).
    await waitForChange(i32, I32.IN_FLIGHT, inFlight);
  }
}

export function releasePermit(block: ControlBlock): void {
  Atomics.sub(block.i32, I32.IN_FLIGHT, 1);
  Atomics.notify(block.i32, I32.IN_FLIGHT, 1);
}

/** A success: the streak of cooldowns is broken and the ramp grows by one. */
export function recordSuccess(block: ControlBlock): void {
  const { i32 } = block;
  // Load first: most successes find the streak already 0, and a store would bounce the cache line.
  if (Atomics.load(i32, I32.STREAK) !== 0) Atomics.store(i32, I32.STREAK, 0);
  for (;;) {
    const limit = Atomics.load(i32, I32.LIMIT);
    if (limit >= Atomics.load(i32, I32.CEILING)) return;
    if (Atomics.compareExchange(i32, I32.LIMIT, limit, limit + 1) === limit) {
      Atomics.notify(i32, I32.IN_FLIGHT, 1);
      return;
    }
  }
}
