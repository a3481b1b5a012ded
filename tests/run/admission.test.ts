import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../src/run/admission.js';

describe('mapConcurrent', () => {
  it('never has more than `limit` items outstanding and yields in completion order', async () => {
    let running = 0;
    let peak = 0;
    const results: number[] = [];
    for await (const value of mapConcurrent([30, 10, 20, 5, 1], 3, async (ms) => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(ms);
      running -= 1;
      return ms;
    })) {
      results.push(value);
    }
    expect(peak).toBe(3);
    expect(results.sort((a, b) => a - b)).toEqual([1, 5, 10, 20, 30]);
  });

  it('pulls the source lazily: an endless source is fine', async () => {
    function* endless() {
      for (let i = 0; ; i += 1) yield i;
    }
    const taken: number[] = [];
    for await (const value of mapConcurrent(endless(), 4, async (n) => n)) {
      taken.push(value);
      if (taken.length === 10) break;
    }
    expect(taken).toHaveLength(10);
  });

  it('keeps yielding finished results while the source is waiting', async () => {
    let release: (() => void) | undefined;
    async function* source() {
      yield 1;
      // The source holds back until the first result has been consumed, as --preserve-order does.
      await new Promise<void>((resolve) => (release = resolve));
      yield 2;
    }
    const seen: number[] = [];
    for await (const value of mapConcurrent(source(), 4, async (n) => n)) {
      seen.push(value);
      release?.();
    }
    expect(seen).toEqual([1, 2]);
  });
});
