import { describe, expect, it } from 'vitest';
import { escalatedPauseMs } from '../../src/control/cooldown.js';
import { backoffMs } from '../../src/attempt/backoff.js';

describe('backoff and pauses', () => {
  it('backs off with full jitter under a ceiling that doubles and is capped', () => {
    expect(backoffMs(1, 500, 30_000, () => 0.999)).toBeCloseTo(499.5);
    expect(backoffMs(3, 500, 30_000, () => 0.5)).toBe(1_000);
    expect(backoffMs(20, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffMs(4, 500, 30_000, () => 0)).toBe(0);
  });

  it('escalates the no-hint cooldown pause per cooldown in a row, up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((streak) => escalatedPauseMs(streak, 1_000, 5_000))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });
});
