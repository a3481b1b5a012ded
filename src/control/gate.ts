// The gate every attempt passes before it is sent: wait while a cooldown is open, take an
// in-flight permit, and only then commit to the generation the request goes out in.

import { setTimeout as sleep } from 'node:timers/promises';
import { countUp, I32, I64, type ControlBlock } from './control-block.js';
import { waitUntilOpen } from './cooldown.js';
import { interruptible, type ItemClock } from './interrupt.js';
import { releasePermit, takePermit, tryTakePermit } from './permits.js';

/**
 * The open generation the attempt is sent in, holding one permit (the caller must release it
 * when the attempt ends): at once when the gate is open and a permit free — the common case, and
 * then no promise is made (an async function's promise and its await were garbage for every
 * attempt on a busy thread) — else a promise of it, after the waits.
 */
export function enterGate(block: ControlBlock, slot: number, rampJitterMs: number, clock?: ItemClock, random: () => number = Math.random): number | Promise<number> {
  const gen = Atomics.load(block.i32, I32.GEN);
  // Even: no cooldown is open. Checked again after taking the permit, as in waitAtGate.
  if ((gen & 1) === 0 && tryTakePermit(block, slot)) {
    if (Atomics.load(block.i32, I32.GEN) === gen) return gen;
    releasePermit(block, slot);
  }
  return waitAtGate(block, slot, rampJitterMs, clock, random);
}

async function waitAtGate(block: ControlBlock, slot: number, rampJitterMs: number, clock: ItemClock | undefined, random: () => number): Promise<number> {
  for (;;) {
    let gen = Atomics.load(block.i32, I32.GEN);
    if ((gen & 1) === 1) {
      const passage = await waitUntilOpen(block, clock);
      gen = passage.gen;
      // Spread the first releases after a cooldown a little, on top of the ramp's low limit.
      if (passage.waitedForCooldown && rampJitterMs > 0) await interruptible(sleep(random() * rampJitterMs), clock?.interrupt);
    }
    if (!tryTakePermit(block, slot)) await takePermit(block, slot, clock);
    // Check the generation again *after* taking the permit: a cooldown may have opened while we
    // waited for it, and no attempt may go out in a closed epoch.
    if (Atomics.load(block.i32, I32.GEN) === gen) return gen;
    releasePermit(block, slot);
  }
}

/**
 * The last look before a request is written (its socket is ready): if the generation the attempt
 * entered in is still the open one, the request is counted and may go; else a cooldown opened
 * since the gate and the attempt must go back to it, unsent and uncounted.
 */
export function commitAttempt(block: ControlBlock, gen: number): boolean {
  if (Atomics.load(block.i32, I32.GEN) !== gen) return false;
  countUp(block, I64.REQUESTS);
  return true;
}

/** Whether a cooldown opened since the attempt entered the gate in `gen`. */
export function gateMoved(block: ControlBlock, gen: number): boolean {
  return Atomics.load(block.i32, I32.GEN) !== gen;
}
