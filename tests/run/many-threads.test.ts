// Cooldowns with 8 threads and 256 attempts in flight, over real HTTP to the simulator: every
// burst of 429s is one cooldown, bursts in a row halve the AIMD ceiling, every item ends once, and
// every permit comes back (IN_FLIGHT is 0 when the run is over). 4 threads: cooldown-repeats.test.ts.
import { describe, expect, it } from 'vitest';
import type { BatchEvent } from '../../src/model/events.js';
import type { ItemResult } from '../../src/model/item-result.js';
import { streamBatch } from '../../src/run/run-batch.js';
import type { StormSpec } from '../../src/sim/index.js';
import { chatItems, expectEachSucceededOnce, successesByKey } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();

describe('cooldowns across many threads', () => {
  it('makes each burst one cooldown on 8 threads × 256 in flight, halves the ceiling for bursts in a row, and gives every permit back', { timeout: 120_000 }, async () => {
    const concurrency = 256;
    const hint = { header: 'retry-after-ms' as const, ms: 60 };
    // Each storm holds requests until that many are on the wire, then answers all 429. With
    // rampStart = concurrency the whole wave goes out again after each cooldown, straight into the
    // next storm: no success in between, so from the second cooldown on each halves the ceiling
    // (256 -> 128 -> 64), and the third storm is sized for the wave the halved ceiling lets out.
    const storms: StormSpec[] = [{ holdUntilInFlight: concurrency, hint }, { holdUntilInFlight: concurrency, hint }, { holdUntilInFlight: concurrency / 2, hint }];
    const sim = await start({ latencyMs: 5, faults: { storms } });
    const items = chatItems(600);
    const events: BatchEvent[] = [];
    const stream = streamBatch({
      items,
      baseURL: sim.url,
      threads: 8,
      concurrency,
      rampStart: concurrency,
      rampJitterMs: 0,
      // Held requests wait for the slowest of the 8 threads to start: far under the default 60 s
      // attempt timeout, but seconds on a loaded machine (a request given up early leaves its storm).
      onEvent: (e) => events.push(e),
    });
    const results: ItemResult[] = [];
    for await (const result of stream) results.push(result);
    const summary = stream.summary();

    expectEachSucceededOnce(items, results);
    expect(summary.cooldowns).toBe(3);
    const openers = events.flatMap((e) => (e.type === 'rate-limited' && e.report === 'opened' ? [e.sentGen] : []));
    expect(openers).toEqual([0, 2, 4]);
    expect(summary.rate_limited).toBe(concurrency * 2 + concurrency / 2);
    expect(sim.requests).toHaveLength(items.length + summary.rate_limited);
    expect([...successesByKey(sim.requests).values()].every((n) => n === 1)).toBe(true);
    // Multiplicative decrease for the bursts in a row, then additive increase as answers come.
    const ceilings = events.flatMap((e) => (e.type === 'ceiling-changed' ? [[e.from, e.to]] : []));
    expect(ceilings.slice(0, 2)).toEqual([[256, 128], [128, 64]]);
    expect(ceilings.slice(2).every(([from, to]) => to === (from ?? 0) + 1)).toBe(true);
    expect(stream.live().inFlight).toBe(0);
  });
});
