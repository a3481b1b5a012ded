// The shared cooldown, as seen by a worker thread: the gate every attempt passes before it is sent,
// and what an attempt does when it is answered with a 429. The main thread's half — the only code
// that ever ends a cooldown — is cooldown-keeper.ts. The slots are described in control-block.ts.
//
// Invariants (they are why this cannot deadlock or stampede):
//  1. GEN only increases. Even = open, odd = cooling down.
//  2. Exactly one attempt opens cooldown g + 1: the one whose compare-and-swap GEN g -> g + 1 wins.
//     Every attempt remembers the even generation it was sent in, so a 429 from an old epoch can
//     neither open a new cooldown nor extend one that is not its own (the stale rule).
//  3. The main thread moves GEN from odd to even, from a timer, so no worker's fate (a crash, an
//     abort, a slow GC) can leave the gate closed. A main thread that is late (blocked by the
//     consumer's synchronous work) must not stretch the pause either: a worker waiting at the gate
//     ends a cooldown whose end passed CLOSE_GRACE_MS ago. Both claim the end with one
//     compare-and-swap on CLOSING first (endCooldown), so each cooldown still has exactly one closer.
//  4. Every wait passes the value it last saw (atomic-wait.ts), so no wake-up is ever lost.
//  5. A cooldown's end time is stored packed with its generation, and for that generation only
//     ever grows: a shorter hint never shortens a cooldown, and a late hint from an old burst never
//     leaks into a newer cooldown.

import { waitForChange } from './atomic-wait.js';
import { countUp, I32, I64, type ControlBlock } from './control-block.js';
import { interruptible } from './interrupt.js';
import type { RateLimitReport } from '../model/events.js';
import { ItemFailed } from '../model/errors.js';
import { MAX_TIMER_MS } from './long-timer.js';
import { ceilingAfterCooldown } from './permits.js';

// The packed word: generation from bit 33, the opener's flag at bit 32, the end (ms after EPOCH)
// in bits 0-31 (~49 days; longer hints are capped there).
const GEN_SHIFT = 33n;
const OPENER_BIT = 1n << 32n;
const REL_MASK = OPENER_BIT - 1n;
const MAX_REL_MS = Number(REL_MASK);

/**
 * `byOpener`: the end was published by the cooldown's opener (or, should it have died, by the
 * keeper in its place). Only such an end is final enough to end the cooldown by: a joiner's
 * 429 can publish first, and its hint (0 ms, say) must not end the opener's pause before it began.
 */
export function packCooldown(gen: number, relMs: number, byOpener = true): bigint {
  const rel = Math.min(Math.max(0, Math.ceil(relMs)), MAX_REL_MS);
  return (BigInt(gen) << GEN_SHIFT) | (byOpener ? OPENER_BIT : 0n) | BigInt(rel);
}

export function unpackCooldown(word: bigint): { gen: number; relMs: number; byOpener: boolean } {
  return { gen: Number(word >> GEN_SHIFT), relMs: Number(word & REL_MASK), byOpener: (word & OPENER_BIT) !== 0n };
}

/** The block's epoch (ms); cooldown end times are relative to it. */
export function epochOf(block: ControlBlock): number {
  return Number(Atomics.load(block.i64, I64.EPOCH));
}

/** How long to pause when the server gave no hint: doubles with each cooldown in a row, capped. */
export function escalatedPauseMs(streak: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, streak));
}

/** How late the main thread may be in ending a cooldown before a waiting worker ends it. */
export const CLOSE_GRACE_MS = 250;

/**
 * Ends cooldown `gen` (odd) unless somebody already has: claim it on CLOSING, settle the ceiling
 * (permits.ts), lower LIMIT to the ramp's start (to 1 after an outage: the probe), and only then open the gate — a thread that sees
 * the new generation also sees the lowered limit, so only the ramp's first attempts go out.
 * Returns what it did (the ramp's start, the ceiling before and after, the attempts waiting), or
 * null when another thread ended it.
 */
export function endCooldown(block: ControlBlock, gen: number): { limit: number; ceiling: { from: number; to: number }; waiting: number } | null {
  const { i32 } = block;
  for (;;) {
    const claimed = Atomics.load(i32, I32.CLOSING);
    if (claimed >= gen) return null;
    if (Atomics.compareExchange(i32, I32.CLOSING, claimed, gen) === claimed) break;
  }
  // An outage pause (outage.ts) lets one probe through and leaves the ceiling alone: a server
  // that was down says nothing about the pace it can take once it is back.
  const outage = Atomics.load(i32, I32.OUTAGE_GEN) === gen;
  const ceiling = outage ? { from: Atomics.load(i32, I32.CEILING), to: Atomics.load(i32, I32.CEILING) } : ceilingAfterCooldown(block);
  const limit = outage ? 1 : Math.min(Math.max(1, Atomics.load(i32, I32.RAMP_START)), ceiling.to);
  const waiting = Atomics.load(i32, I32.WAITING);
  Atomics.store(i32, I32.LIMIT, limit);
  Atomics.store(i32, I32.GEN, gen + 1);
  Atomics.notify(i32, I32.GEN);
  return { limit, ceiling, waiting };
}

/** One timer per thread for the grace of the cooldown it waits on, shared by its items. */
let graceTimer: { at: number; promise: Promise<void> } | undefined;

function graceWait(at: number): Promise<void> {
  if (graceTimer?.at !== at) {
    const timer = { at, promise: new Promise<void>((resolve) => setTimeout(resolve, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())))) };
    graceTimer = timer;
    void timer.promise.then(() => {
      if (graceTimer === timer) graceTimer = undefined;
    });
  }
  return graceTimer.promise;
}

export interface GatePassage {
  /** The open (even) generation the attempt is about to be sent in. */
  readonly gen: number;
  /** Whether the attempt had to wait for a cooldown to end on the way. */
  readonly waitedForCooldown: boolean;
}

/** When cooldown `gen` is due to end (epoch ms), or null while its opener has not published it. */
export function cooldownEnd(block: ControlBlock, gen: number): number | null {
  const word = unpackCooldown(Atomics.load(block.i64, I64.COOLDOWN));
  return word.gen === gen && word.byOpener ? epochOf(block) + word.relMs : null;
}

/**
 * Resolves with the current generation once it is even (open). With a deadline, a cooldown that
 * is due to end after it fails the wait at once (`expired`) instead of sleeping past it; the
 * interrupt cuts the wait short when the deadline comes or the run stops.
 */
export async function waitUntilOpen(
  block: ControlBlock,
  clock?: { deadline: number; itemDeadline: number; interrupt: Promise<never>; expired(): Error },
): Promise<GatePassage> {
  let waitedForCooldown = false;
  try {
    for (;;) {
      const gen = Atomics.load(block.i32, I32.GEN);
      if ((gen & 1) === 0) return { gen, waitedForCooldown };
      const end = cooldownEnd(block, gen);
      if (clock !== undefined && (end ?? 0) >= clock.itemDeadline) throw clock.expired();
      if (!waitedForCooldown) Atomics.add(block.i32, I32.WAITING, 1);
      waitedForCooldown = true;
      if (end !== null && Date.now() >= end + CLOSE_GRACE_MS) {
        endCooldown(block, gen); // the main thread is late: end it here (or find it ended)
        continue;
      }
      const changed = waitForChange(block.i32, I32.GEN, gen);
      // Wake by the grace's end too, in case the main thread is late (an end not yet published
      // is left to the keeper, which publishes a default one if the opener died: cooldown-keeper.ts).
      const wake = changed === undefined || end === null ? changed : Promise.race([changed, graceWait(end + CLOSE_GRACE_MS)]);
      try {
        await interruptible(wake, clock?.interrupt);
      } catch (error) {
        // A deadline or a stop came while we waited: say what for (a long Retry-After, typically).
        if (!(error instanceof ItemFailed)) throw error;
        const until = end === null ? 'its end not yet known' : `due to end at ${new Date(end).toISOString()}`;
        const what = Atomics.load(block.i32, I32.OUTAGE_GEN) === gen ? `the endpoint to answer again (an outage pause, ${until})` : `the shared cooldown (${until})`;
        throw new ItemFailed(error.category, `${error.message} while the item waited for ${what}`, error.failureCode);
      }
    }
  } finally {
    if (waitedForCooldown) Atomics.sub(block.i32, I32.WAITING, 1);
  }
}

export interface PausePolicy {
  /** The first pause without a server hint, in ms. */
  readonly baseMs: number;
  /** The cap of the escalating pause, in ms (server hints are honoured beyond it). */
  readonly maxMs: number;
}

/**
 * Tell the control block that an attempt sent in generation `sentInGen` was rate limited.
 * `hintMs` is the server's pause hint (null when it gave none). Never blocks; the caller then
 * retries through the gate, in the same worker.
 */
export function reportRateLimit(
  block: ControlBlock,
  sentInGen: number,
  hintMs: number | null,
  policy: PausePolicy,
  nowMs: number,
): RateLimitReport {
  const { i32 } = block;
  countUp(block, I64.RATE_LIMITED);
  const seen = Atomics.compareExchange(i32, I32.GEN, sentInGen, sentInGen + 1);
  const opened = seen === sentInGen;
  // GEN only increases, so anything past sentInGen + 1 means our cooldown came and went.
  if (!opened && seen !== sentInGen + 1) return 'stale';

  // The opener bumps the streak; a joiner uses the streak its opener paused for.
  const streak = opened ? Atomics.add(i32, I32.STREAK, 1) : Atomics.load(i32, I32.STREAK) - 1;
  const pauseMs = hintMs ?? escalatedPauseMs(streak, policy.baseMs, policy.maxMs);
  const grew = extendCooldown(block, sentInGen + 1, nowMs + pauseMs - epochOf(block), opened);
  if (!opened) return grew ? 'extended' : 'joined';

  Atomics.add(i32, I32.COOLDOWNS, 1);
  // Wake the main thread's keeper, which waits on GEN while it is even.
  Atomics.notify(i32, I32.GEN);
  return 'opened';
}

/**
 * Atomic max of cooldown `gen`'s end time. A word of an older generation is simply replaced (its
 * cooldown is over, or ours has not been published yet and its opener will max over ours); a word
 * of a newer generation means ours has ended, and is left alone. Returns whether the end moved.
 */
export function extendCooldown(block: ControlBlock, gen: number, relMs: number, byOpener = true): boolean {
  const { i64 } = block;
  for (;;) {
    const word = Atomics.load(i64, I64.COOLDOWN);
    const current = unpackCooldown(word);
    if (current.gen > gen) return false;
    const same = current.gen === gen;
    const flag = byOpener || (same && current.byOpener);
    if (same && current.relMs >= Math.ceil(relMs) && current.byOpener === flag) return false;
    const rel = same ? Math.max(current.relMs, relMs) : relMs;
    if (Atomics.compareExchange(i64, I64.COOLDOWN, word, packCooldown(gen, rel, flag)) === word) {
      // The keeper may be waiting for this cooldown's end time to be published.
      Atomics.notify(i64, I64.COOLDOWN);
      return true;
    }
  }
}

/**
 * Closes the gate until `untilMs` (epoch ms) because another process's cooldown says so: opens a
 * local cooldown if the gate is open (as a 429 would, but without counting one), or extends the
 * one that is open. The keeper ends it as any other. Returns whether the gate was open.
 */
export function holdGateUntil(block: ControlBlock, untilMs: number): boolean {
  const { i32 } = block;
  const rel = untilMs - epochOf(block);
  for (;;) {
    const gen = Atomics.load(i32, I32.GEN);
    if ((gen & 1) === 1) {
      // Extending an older generation's word is refused by extendCooldown, so no end leaks.
      extendCooldown(block, gen, rel);
      if (Atomics.load(i32, I32.GEN) === gen) return false;
      continue; // it ended meanwhile: look again
    }
    if (Atomics.compareExchange(i32, I32.GEN, gen, gen + 1) === gen) {
      extendCooldown(block, gen + 1, rel);
      Atomics.notify(i32, I32.GEN);
      return true;
    }
  }
}
