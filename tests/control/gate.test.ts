// The gate in one thread: an open gate with a free permit lets an attempt through at once (no
// promise, no turn of the microtask queue: the attempt loop relies on it to pay nothing per
// request for the common case); a closed gate or a full in-flight limit makes it wait, and the
// permit it then holds is counted like any other.
import { describe, expect, it } from 'vitest';
import { createControlBlock, I32 } from '../../src/control/control-block.js';
import { endCooldown, reportRateLimit } from '../../src/control/cooldown.js';
import { enterGate } from '../../src/control/gate.js';
import { releasePermit } from '../../src/control/permits.js';

const SLOT = 0;
const policy = { baseMs: 1000, maxMs: 60_000 };

describe('the gate', () => {
  it('passes an attempt at once when the gate is open and a permit is free, holding the permit', () => {
    const block = createControlBlock(2);
    const entered = enterGate(block, SLOT, 0);
    expect(entered).toBe(0);
    expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(1);
  });

  it('makes the attempt wait, unsent, while every permit is taken, and lets it through when one is released', async () => {
    const block = createControlBlock(1);
    expect(enterGate(block, SLOT, 0)).toBe(0);
    const waiting = enterGate(block, SLOT, 0);
    expect(waiting).toBeInstanceOf(Promise);
    expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(1);
    releasePermit(block, SLOT);
    await expect(waiting).resolves.toBe(0);
    expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(1);
  });

  it('makes the attempt wait while a cooldown is open, and sends it in the generation that opens after', async () => {
    const block = createControlBlock(4);
    expect(reportRateLimit(block, 0, 50, policy, Date.now())).toBe('opened');
    const waiting = enterGate(block, SLOT, 0);
    expect(waiting).toBeInstanceOf(Promise);
    // The keeper's part: end the cooldown (the ramp starts at one permit).
    endCooldown(block, 1);
    await expect(waiting).resolves.toBe(2);
    expect(Atomics.load(block.i32, I32.IN_FLIGHT)).toBe(1);
  });
});
