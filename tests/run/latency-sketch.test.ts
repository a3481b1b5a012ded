import { describe, expect, it } from 'vitest';
import { LATENCY_RELATIVE_ERROR, LatencySketch } from '../../src/run/latency-sketch.js';

/** The value of rank ⌈p/100 × n⌉ of the sorted values: what the summary reported before the sketch. */
function exact(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] ?? 0;
}

describe('LatencySketch', () => {
  it('reports every percentile within 1 % of the exact value, over spreads from µs to hours', () => {
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const scale of [0.01, 50, 3_000, 5_000_000]) {
      const sketch = new LatencySketch();
      const values: number[] = [];
      for (let i = 0; i < 20_000; i += 1) {
        // Log-normal-ish: most near `scale`, a long tail.
        const value = scale * Math.exp(2 * (random() + random() + random() - 1.5));
        values.push(value);
        sketch.add(value);
      }
      values.sort((a, b) => a - b);
      for (const p of [1, 50, 90, 95, 99, 99.9, 100]) {
        const want = exact(values, p);
        expect(Math.abs(sketch.percentile(p) - want) / want).toBeLessThanOrEqual(LATENCY_RELATIVE_ERROR + 1e-9);
      }
    }
    expect(LATENCY_RELATIVE_ERROR).toBeLessThan(0.01);
  });

  it('is exact at the ends: one item, zeros, the maximum', () => {
    const one = new LatencySketch();
    one.add(123.456);
    expect([one.percentile(50), one.percentile(99)]).toEqual([123.456, 123.456]);
    const mixed = new LatencySketch();
    for (let i = 0; i < 60; i += 1) mixed.add(0);
    for (let i = 1; i <= 40; i += 1) mixed.add(i * 10);
    expect(mixed.count).toBe(100);
    expect(mixed.percentile(50)).toBe(0);
    expect(mixed.percentile(100)).toBe(400);
    expect(new LatencySketch().percentile(50)).toBe(0);
  });
});
