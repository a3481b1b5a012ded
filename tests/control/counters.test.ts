// The request and 429 counters hold more than 2^31 (2.5 days at 10k requests a second).
import { describe, expect, it } from 'vitest';
import { countUp, createControlBlock, I64, readCount } from '../../src/control/control-block.js';
import { readLive } from '../../src/run/live-stats.js';
import { SummaryBuilder } from '../../src/run/summary.js';

describe('run counters', () => {
  it('count past 2^31 without going negative', () => {
    const block = createControlBlock(8);
    Atomics.store(block.i64, I64.REQUESTS, BigInt(2 ** 31 - 1));
    Atomics.store(block.i64, I64.RATE_LIMITED, BigInt(2 ** 32 - 1));
    countUp(block, I64.REQUESTS);
    countUp(block, I64.RATE_LIMITED);
    expect(readCount(block, I64.REQUESTS)).toBe(2 ** 31);
    const summary = new SummaryBuilder(block).build();
    expect(summary.requests).toBe(2 ** 31);
    expect(summary.rate_limited).toBe(2 ** 32);
    const live = readLive(block, { done: 0, succeeded: 0, tokens: { prompt: 0, completion: 0, total: 0, cached: 0, reasoning: 0 }, cost: null });
    expect(live.requests).toBe(2 ** 31);
  });
});
