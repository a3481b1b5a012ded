// The shared cooldown, as seen by a worker thread: the gate every attempt passes before it is sent,
// and what an attempt does when it is answered with a 429. The main thread's half — the only code
// that ever ends a cooldown — is cooldown-keeper.ts. The slots are described in control-block.ts.
//
// Invariants (they are why this cannot deadlock or stampede):
//  1. GEN only increases. Even = open, odd = cooling down.
//  2. Exactly one attempt opens cooldown g + 1: the one whose compare-and-swap GEN g -> g + 1 wins.
//     Every attempt remembers the even generation it was sent in, so a 429 from an old epoch can
//     neither open a new cooldown nor extend one that is not its own (the stale rule).
//  3. Only the main thread moves GEN from odd to even, from a timer. No worker's fate (a crash, an
//     abort, a slow GC) can leave the gate closed.
//  4. Every wait passes the value it last saw (atomic-wait.ts), so no wake-up is ever lost.
//  5. A cooldown's end time is stored packed with its generation, and for that generation only
//     ever grows: a shorter hint never shortens a cooldown, and a late hint from an old burst never
//     leaks into a newer cooldown.

import { waitForChange } from './atomic-wait.js';
import { I32, I64, type ControlBlock } from './control-block.js';
import { interruptible } from './interrupt.js';
import type { RateLimitReport } from '../model/events.js';
import { ItemFailed } from '../model/errors.js';

const GEN_SHIFT = 33n;
const REL_MASK = (1n << GEN_SHIFT) - 1n;
/** Cooldown end times are stored as ms after the block's EPOCH in 33 bits (~99 days). */
const MAX_REL_MS = Number(REL_MASK);

export function packCooldown(gen: number, relMs: number): bigint {
  const rel = Math.min(Math.max(0, Math.ceil(relMs)), MAX_REL_MS);
  return (BigInt(gen) << GEN_SHIFT) | BigInt(rel);
}

export function unpackCooldown(word: bigint): { gen: number; relMs: number } {
  return { gen: Number(word >> GEN_SHIFT), relMs: Number(word & REL_MASK) };
}

/** The block's epoch (ms); cooldown end times are relative to it. */
export function epochOf(block: ControlBlock): number {
  return Number(Atomics.load(block.i64, I64.EPOCH));
}

/** How long to pause when the server gave no hint: doubles with each cooldown in a row, capped. */
export function escalatedPauseMs(streak: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, streak));
}

export interface GatePassage {
  /** The open (even) generation the attempt is about to be sent in. */
  readonly gen: number;
  /** Whether the attempt had to wait for a cooldown to end on the way. */
  readonly waitedForCooldown: boolean;
}

/** When cooldown `gen` is due to end (epoch ms), or null while its end is not yet published. */
export function cooldownEnd(block: ControlBlock, gen: number): number | null {
  const word = unpackCooldown(Atomics.load(block.i64, I64.COOLDOWN));
  return word.gen === gen ? epochOf(block) + word.relMs : null;
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
      try {
        await interruptible(waitForChange(block.i32, I32.GEN, gen), clock?.interrupt);
      } catch (error) {
        // A deadline or a stop came while we waited: say what for (a long Retry-After, typically).
        if (!(error instanceof ItemFailed)) throw error;
        const until = end === null ? 'its end not yet known' : `due to end at ${new Date(end).toISOString()}`;
        throw new ItemFailed(error.category, `${error.message} while the item waited for the shared cooldown (${until})`, error.failureCode);
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
  Atomics.add(i32, I32.RATE_LIMITED, 1);
  const seen = Atomics.compareExchange(i32, I32.GEN, sentInGen, sentInGen + 1);
  const opened = seen === sentInGen;
  // GEN only increases, so anything past sentInGen + 1 means our cooldown came and went.
  if (!opened && seen !== sentInGen + 1) return 'stale';

  // The opener bumps the streak; a joiner uses the streak its opener paused for.
  const streak = opened ? Atomics.add(i32, I32.STREAK, 1) : Atomics.load(i32, I32.STREAK) - 1;
  const pauseMs = hintMs ?? escalatedPauseMs(streak, policy.baseMs, policy.maxMs);
  const grew = extendCooldown(block, sentInGen + 1, nowMs + pauseMs - epochOf(block));
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
export function extendCooldown(block: ControlBlock, gen: number, relMs: number): boolean {
  const { i64 } = block;
  for (;;) {
    const word = Atomics.load(i64, I64.COOLDOWN);
    const current = unpackCooldown(word);
    if (current.gen > gen) return false;
    if (current.gen === gen && current.relMs >= Math.ceil(relMs)) return false;
    if (Atomics.compareExchange(i64, I64.COOLDOWN, word, packCooldown(gen, relMs)) === word) {
      // The keeper may be waiting for this cooldown's end time to be published.
      Atomics.notify(i64, I64.COOLDOWN);
      return true;
    }
  }
}
