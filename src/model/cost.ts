// Cost from a price table the user gives. No price list is bundled: they go stale, and every
// provider and contract differs.

import type { Usage } from './usage.js';

/** Prices per million tokens, in the currency of the user's choice. */
export interface PriceTable {
  /** Per million prompt tokens not served from the cache. */
  inputPerMillion: number;
  /** Per million completion tokens (reasoning tokens are part of them). */
  outputPerMillion: number;
  /** Per million cached prompt tokens. @default inputPerMillion */
  cachedInputPerMillion?: number | undefined;
}

export function costOf(usage: Usage, prices: PriceTable): number {
  const cached = Math.min(usage.cached, usage.prompt);
  return (
    ((usage.prompt - cached) * prices.inputPerMillion +
      cached * (prices.cachedInputPerMillion ?? prices.inputPerMillion) +
      usage.completion * prices.outputPerMillion) /
    1e6
  );
}
