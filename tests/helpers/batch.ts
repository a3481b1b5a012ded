// Test helpers for whole runs against the simulator.
import { expect } from 'vitest';
import type { BatchItem } from '../../src/model/outcome.js';
import type { ItemResult } from '../../src/model/item-result.js';
import type { SimRequestRecord } from '../../src/sim/index.js';

/** A chat request whose last user message (the simulator's script key) is `key`. */
export function chatItem(customId: string, key = customId): BatchItem {
  return { custom_id: customId, body: { model: 'sim', messages: [{ role: 'user', content: key }] } };
}

export function chatItems(count: number, prefix = 'item'): BatchItem[] {
  return Array.from({ length: count }, (_, i) => chatItem(`${prefix}-${i}`));
}

/** Every item has exactly one result, and every result is a success. */
export function expectEachSucceededOnce(items: readonly BatchItem[], results: readonly ItemResult[]): void {
  expect(results.map((r) => r.custom_id).sort()).toEqual(items.map((i) => i.custom_id).sort());
  const failures = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : `${r.custom_id}: ${r.error.category} ${r.error.message}`));
  expect(failures).toEqual([]);
}

/** Per key, how many requests the simulator answered 200: each item's request succeeded exactly once. */
export function successesByKey(requests: readonly SimRequestRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) if (r.status === 200) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  return counts;
}

/** Wall-clock tolerance between the simulator's clock and the client's Date.now(), in ms. */
export const CLOCK_SLACK_MS = 5;

/** Results counted by outcome: `ok`, or the failure's category. */
export function categories(results: readonly ItemResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? 'ok' : r.error.category;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Every item ended with exactly one result: nothing lost, nothing twice. */
export function expectOneResultEach(items: readonly BatchItem[], results: readonly ItemResult[]): void {
  expect(results.map((r) => r.custom_id).sort()).toEqual(items.map((i) => i.custom_id).sort());
}
