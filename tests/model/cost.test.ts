import { describe, expect, it } from 'vitest';
import { costOf } from '../../src/model/cost.js';
import { resolveOptions } from '../../src/run/options.js';

describe('cost from a user price table', () => {
  const usage = { prompt: 1_000_000, completion: 500_000, total: 1_500_000, cached: 200_000, reasoning: 100_000 };

  it('prices uncached input, cached input and output separately', () => {
    expect(costOf(usage, { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5 })).toBeCloseTo(0.8 * 2 + 0.2 * 0.5 + 0.5 * 8);
  });

  it('charges cached tokens at the input price when no cached price is given', () => {
    expect(costOf(usage, { inputPerMillion: 2, outputPerMillion: 8 })).toBeCloseTo(1 * 2 + 0.5 * 8);
  });

  it('rejects a price table with a missing or negative price', () => {
    const base = { items: [], baseURL: 'http://x/v1' };
    expect(() => resolveOptions({ ...base, prices: { inputPerMillion: -1, outputPerMillion: 1 } }, {})).toThrow(
      'Expected `prices.inputPerMillion` to be a finite price per million tokens >= 0, got `-1` (number)',
    );
  });
});
