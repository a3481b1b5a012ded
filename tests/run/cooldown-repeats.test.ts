// Fifteen cooldowns in one run at 4 threads × 256 items in flight, over real HTTP to the
// simulator, with attempts waiting for permits on every thread each time a burst of 429s comes
// back: no hang, one cooldown per burst, and no request reaches the server while a cooldown is
// open. The last is what broke when an attempt released its permit before it reported its 429:
// a waiting attempt on another thread took the permit, found the gate still open and sent its
// request into the burst (attempt/item-runner.ts reports first).
import { describe, expect, it } from 'vitest';
import type { BatchEvent } from '../../src/model/events.js';
import type { ItemResult } from '../../src/model/item-result.js';
import { streamBatch } from '../../src/run/run-batch.js';
import type { SimRequestRecord, StormSpec } from '../../src/sim/index.js';
import { CLOCK_SLACK_MS, chatItems, expectEachSucceededOnce, successesByKey } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();

/** The runs of consecutive storm 429s in arrival order, each with the request that came next. */
function bursts(requests: readonly SimRequestRecord[]): Array<{ size: number; firstAnswer: number; next: SimRequestRecord | undefined }> {
  const found: Array<{ size: number; firstAnswer: number; next: SimRequestRecord | undefined }> = [];
  let i = 0;
  while (i < requests.length) {
    if (requests[i]?.cause !== 'storm') {
      i += 1;
      continue;
    }
    let j = i;
    while (requests[j]?.cause === 'storm') j += 1;
    const burst = requests.slice(i, j);
    found.push({ size: burst.length, firstAnswer: Math.min(...burst.map((r) => r.answeredAt ?? Infinity)), next: requests[j] });
    i = j;
  }
  return found;
}

describe('cooldowns again and again', () => {
  it('survives 15 bursts at 4 threads × 256 in flight: one cooldown each, and nothing sent while one is open', { timeout: 150_000 }, async () => {
    const concurrency = 256;
    const rampStart = 32;
    const hint = { header: 'retry-after-ms' as const, ms: 60 };
    // The first burst is everything in flight (the limit starts at `concurrency`). After each
    // cooldown the ramp lets `rampStart` attempts out while the other 224 wait for permits; the
    // simulator lets one through (its success breaks the streak of cooldowns, so the AIMD ceiling
    // stays, and raises the limit by one), then holds the next rampStart + 1 and answers them all
    // 429 at once: every attempt in flight is in the burst, and the 224 are waiting.
    const storms: StormSpec[] = [{ holdUntilInFlight: concurrency, hint }];
    for (let i = 0; i < 14; i += 1) storms.push({ passRequests: 1 }, { holdUntilInFlight: rampStart + 1, hint });
    const sim = await start({ latencyMs: 5, faults: { storms } });
    const items = chatItems(600);
    const events: BatchEvent[] = [];
    const stream = streamBatch({
      items,
      baseURL: sim.url,
      threads: 4,
      concurrency,
      rampStart,
      rampJitterMs: 0,
      // Should a burst be broken after all (one request too few to fill a hold), the run stops at
      // its deadline, its items aborted, instead of running into the test timeout. (Not a short
      // attempt timeout: the first burst waits for the slowest thread to start, seconds when loaded.)
      deadlineMs: 90_000,
      onEvent: (e) => events.push(e),
    });
    const results: ItemResult[] = [];
    for await (const result of stream) results.push(result);
    const summary = stream.summary();

    expectEachSucceededOnce(items, results);
    expect(summary.cooldowns).toBe(15);
    expect(summary.rate_limited).toBe(concurrency + 14 * (rampStart + 1));
    expect(sim.requests).toHaveLength(items.length + summary.rate_limited);
    expect([...successesByKey(sim.requests).values()].every((n) => n === 1)).toBe(true);
    // One cooldown per burst: each was opened by a 429 of a different generation.
    const openers = events.flatMap((e) => (e.type === 'rate-limited' && e.report === 'opened' ? [e.sentGen] : []));
    expect(new Set(openers).size).toBe(15);
    // Every attempt in flight was in the burst, so the next request to reach the server may only
    // come once the pause the burst asked for is over. One sent meanwhile was sent into the burst.
    const found = bursts(sim.requests);
    expect(found.map((b) => b.size)).toEqual([concurrency, ...Array.from({ length: 14 }, () => rampStart + 1)]);
    const early = found.filter((b) => b.next !== undefined && b.next.arrivedAt < b.firstAnswer + hint.ms - CLOCK_SLACK_MS);
    expect(early.map((b) => `request ${b.next?.seq} arrived ${((b.next?.arrivedAt ?? 0) - b.firstAnswer).toFixed(1)} ms after its burst was answered`)).toEqual([]);
    expect(stream.live().inFlight).toBe(0);
  });
});
