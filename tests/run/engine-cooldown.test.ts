// The shared cooldown in whole runs: real worker threads, the real openai client, real HTTP to
// the simulator. Each scenario runs many times in a row to shake out hangs and races.
import { describe, expect, it } from 'vitest';
import type { BatchEvent } from '../../src/model/events.js';
import { CLOSE_GRACE_MS } from '../../src/control/cooldown.js';
import { runBatch } from '../../src/run/run-batch.js';
import { CLOCK_SLACK_MS, chatItem, chatItems, expectEachSucceededOnce, successesByKey } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

// Ten rounds each: the 4-thread × 256 repeats of cooldown-repeats.test.ts shake the same races in one run.
const REPEAT = 10;
/** Repeated scenarios start a pool per round; give them room on a loaded 2-core machine. */
const SLOW_MS = 180_000;
const start = useSimulator();

interface Span {
  gen: number;
  opened: number;
  /** When it was due to end as the main thread first saw it (it may have been extended since). */
  until: number;
  ended: number;
  by: 'keeper' | 'worker';
}

/** The cooldowns seen by an observer, as [opened, ended] pairs, checking they never overlap. */
function cooldownSpans(events: readonly BatchEvent[]): Span[] {
  const spans: Span[] = [];
  let open: Extract<BatchEvent, { type: 'cooldown-opened' }> | undefined;
  for (const event of events) {
    if (event.type === 'cooldown-opened') {
      expect(open, 'a cooldown opened while another was open').toBeUndefined();
      open = event;
    } else if (event.type === 'cooldown-ended') {
      expect(open?.gen).toBe(event.gen);
      spans.push({ gen: event.gen, opened: open?.at ?? NaN, until: open?.until ?? NaN, ended: event.at, by: event.by });
      open = undefined;
    }
  }
  expect(open, 'a cooldown was still open at the end').toBeUndefined();
  return spans;
}

describe('the shared cooldown', () => {
  it(`pauses everybody exactly once when every request in flight hits 429 at once (${REPEAT}×)`, async () => {
    for (let round = 0; round < REPEAT; round += 1) {
      const inFlight = 16;
      const sim = await start({
        latencyMs: 10,
        faults: { storms: [{ holdUntilInFlight: inFlight, hint: { header: 'retry-after-ms', ms: 150 } }] },
      });
      const items = chatItems(24);
      const events: BatchEvent[] = [];
      const { summary, results } = await runBatch({
        items,
        baseURL: sim.url,
        concurrency: inFlight,
        threads: 2,
        rampJitterMs: 5,
        onEvent: (e) => events.push(e),
      });

      expectEachSucceededOnce(items, results);
      const spans = cooldownSpans(events);
      expect(spans).toHaveLength(1);
      expect(summary.cooldowns).toBe(1);

      const requests = sim.requests;
      const storm = requests.slice(0, inFlight);
      expect(storm.every((r) => r.status === 429)).toBe(true);
      // Nothing reached the server while the cooldown was open: every later request arrived
      // after the pause the first 429 asked for, and after the main thread ended the cooldown.
      const firstAnswer = Math.min(...storm.map((r) => r.answeredAt ?? Infinity));
      const after = requests.slice(inFlight);
      const earliest = Math.min(...after.map((r) => r.arrivedAt));
      expect(earliest).toBeGreaterThanOrEqual(firstAnswer + 150 - CLOCK_SLACK_MS);
      // The keeper's `at` is the moment it opened the gate. When the main thread was late (a
      // loaded machine) a waiting worker ended the cooldown instead, no earlier than CLOSE_GRACE_MS
      // after its end, and `at` is only when the keeper heard of it, later than the real end.
      const span = spans[0] as Span;
      const opened = span.by === 'keeper' ? span.ended : span.until + CLOSE_GRACE_MS;
      expect(earliest).toBeGreaterThanOrEqual(opened - CLOCK_SLACK_MS);
      // Total requests = items + the 429s, on both sides.
      expect(requests).toHaveLength(items.length + inFlight);
      expect(summary.requests).toBe(items.length + inFlight);
      expect(summary.rate_limited).toBe(inFlight);
      expect([...successesByKey(requests).values()].every((n) => n === 1)).toBe(true);
      // The workers' own account, over the event channel: all 16 429s were of requests sent in
      // generation 0, one opened cooldown 1, and every other one belongs to that same cooldown. A
      // 429 its thread got to while the pause lasted joined (or extended) it; one it got to only
      // after the pause was over is stale, reported when GEN was already 2 — the generation after
      // this very cooldown. (Which of the two is a matter of thread scheduling: on a loaded
      // machine a thread can be off the CPU for longer than the 150 ms pause, and each joiner
      // extends the pause from its own report, so only such a stall makes a 429 stale.)
      const reports = events.flatMap((e) => (e.type === 'rate-limited' ? [e] : []));
      expect(reports).toHaveLength(inFlight);
      expect(reports.every((r) => r.sentGen === 0)).toBe(true);
      expect(reports.filter((r) => r.report === 'opened').map((r) => r.gen)).toEqual([1]);
      const others = reports.filter((r) => r.report !== 'opened');
      expect(others.filter((r) => !(r.report === 'stale' ? r.gen === 2 : r.gen === 1)).map((r) => `${r.custom_id}: ${r.report} in ${r.gen}`)).toEqual([]);
    }
  }, SLOW_MS);

  it(`survives cascading waves: the burst returns right after each cooldown, three times (${REPEAT}×)`, async () => {
    for (let round = 0; round < REPEAT; round += 1) {
      const hint = { header: 'retry-after-ms' as const, ms: 60 };
      // After each cooldown the ramp lets exactly `rampStart` (4) attempts out, and the simulator
      // answers all of them 429 at once again: a new burst right after each cooldown's end.
      const sim = await start({
        latencyMs: 5,
        faults: {
          storms: [{ holdUntilInFlight: 8, hint }, { holdUntilInFlight: 4, hint }, { holdUntilInFlight: 4, hint }],
        },
      });
      const items = chatItems(20);
      const events: BatchEvent[] = [];
      const { summary, results } = await runBatch({
        items,
        baseURL: sim.url,
        concurrency: 8,
        threads: 2,
        rampStart: 4,
        rampJitterMs: 5,
        onEvent: (e) => events.push(e),
      });

      expectEachSucceededOnce(items, results);
      const spans = cooldownSpans(events);
      expect(spans.map((s) => s.gen)).toEqual([1, 3, 5]);
      expect(summary.rate_limited).toBe(8 + 4 + 4);
      expect(summary.cooldowns).toBe(3);
      expect(sim.requests).toHaveLength(items.length + summary.rate_limited);
      expect(sim.requests.filter((r) => r.status === 429)).toHaveLength(summary.rate_limited);
      expect([...successesByKey(sim.requests).values()].every((n) => n === 1)).toBe(true);
    }
  }, SLOW_MS);

  it('treats a 429 for a request sent before a cooldown that has since ended as stale', async () => {
    for (let round = 0; round < REPEAT / 4; round += 1) {
      const sim = await start({
        faults: {
          scripts: {
            fast: [{ status: 429, delayMs: 60, hint: { header: 'retry-after-ms', ms: 60 } }],
            slow: [{ status: 429, delayMs: 300, hint: { header: 'retry-after-ms', ms: 60 } }],
          },
        },
      });
      const items = [chatItem('fast'), chatItem('slow')];
      const { summary, results } = await runBatch({ items, baseURL: sim.url, concurrency: 2, threads: 1 });
      expectEachSucceededOnce(items, results);
      // Both were sent in generation 0; "fast" opened a cooldown that ended before "slow" answered.
      expect(summary.rate_limited).toBe(2);
      expect(summary.cooldowns).toBe(1);
    }
  }, SLOW_MS);

  it('lets a longer Retry-After extend the open cooldown, and never lets a shorter one shorten it', async () => {
    const rl = (delayMs: number, ms: number) => ({ status: 429, delayMs, hint: { header: 'retry-after-ms' as const, ms } });
    for (let round = 0; round < REPEAT / 4; round += 1) {
      const sim = await start({
        faults: { scripts: { opener: [rl(20, 200)], longer: [rl(60, 400)], shorter: [rl(100, 10)] } },
      });
      const items = [chatItem('opener'), chatItem('longer'), chatItem('shorter')];
      const { summary, results } = await runBatch({ items, baseURL: sim.url, concurrency: 3, threads: 1, rampJitterMs: 0 });
      expectEachSucceededOnce(items, results);
      expect(summary.cooldowns).toBe(1);
      const requests = sim.requests;
      const longer429 = requests.find((r) => r.key === 'longer' && r.status === 429);
      const retries = requests.filter((r) => r.status === 200);
      expect(retries).toHaveLength(3);
      // Every retry waited for the longer hint; the shorter one did not cut the pause.
      for (const retry of retries) {
        expect(retry.arrivedAt).toBeGreaterThanOrEqual((longer429?.answeredAt ?? Infinity) + 400 - CLOCK_SLACK_MS);
      }
    }
  }, SLOW_MS);
});
