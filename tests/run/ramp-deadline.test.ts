// An item's deadline that comes while it waits for an in-flight permit during the ramp after a
// cooldown (the limit is low, most attempts wait): that item fails as `timeout`, the permits and
// wake-ups it leaves behind are nobody's loss, and the items after it run to success.
import { describe, expect, it } from 'vitest';
import type { ItemResult } from '../../src/model/item-result.js';
import { streamBatch } from '../../src/run/run-batch.js';
import type { ScriptStep } from '../../src/sim/index.js';
import { categories, chatItems, expectOneResultEach } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();

describe('an item deadline during the ramp', () => {
  it('fails the items whose deadline comes in a permit wait, and the rest of the run goes on', { timeout: 60_000 }, async () => {
    // The first eight items are answered 429 at once (one cooldown for them), then 200 after
    // 2 s. The ramp restarts at one attempt in flight and grows by one per success: seven of the
    // eight wait for a permit, and their 3 s deadline comes before one is free for most. (The
    // deadline is long enough for the 40 fast items after them on a loaded machine.)
    const slow: ScriptStep[] = [{ status: 429, hint: { header: 'retry-after-ms', ms: 50 } }, { delayMs: 2_000 }];
    const first = chatItems(8, 'slow');
    const scripts = Object.fromEntries(first.map((item) => [item.custom_id, slow]));
    const sim = await start({ latencyMs: 5, faults: { scripts } });
    const items = [...first, ...chatItems(40, 'fast')];
    const stream = streamBatch({ items, baseURL: sim.url, threads: 2, concurrency: 8, rampStart: 1, rampJitterMs: 0, itemDeadlineMs: 3_000 });
    const results: ItemResult[] = [];
    for await (const result of stream) results.push(result);

    expectOneResultEach(items, results);
    const slowResults = results.filter((r) => r.custom_id.startsWith('slow'));
    expect(slowResults.every((r) => r.ok || (r.error.category === 'timeout' && r.error.message === 'item deadline of 3000 ms passed'))).toBe(true);
    // Some ran out of time in the permit wait: their 429 was their only attempt.
    expect(slowResults.filter((r) => !r.ok && r.stats.attempts === 1).length).toBeGreaterThan(0);
    // What they left behind (a permit wait cut short, on either thread) cost nobody else a permit.
    expect(categories(results.filter((r) => r.custom_id.startsWith('fast')))).toEqual({ ok: 40 });
    expect(stream.live().inFlight).toBe(0);
  });
});
