// Faults that must never cost a neighbour: a thread dying with no task, an observer that throws,
// an item that kills its thread among hundreds of good ones, a value a thread cannot send, task
// code that never returns. Real worker threads, real HTTP to the simulator.
import { describe, expect, it } from 'vitest';
import type { BatchEvent } from '../../src/model/events.js';
import type { BatchItem } from '../../src/model/outcome.js';
import type { ItemResult } from '../../src/model/item-result.js';
import { runBatch } from '../../src/run/run-batch.js';
import { CLOCK_SLACK_MS, categories, chatItem, chatItems, expectOneResultEach, successesByKey } from '../helpers/batch.js';
import { startSimThread } from '../helpers/sim-thread.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();
const fixture = (name: string) => new URL(`../fixtures/tasks/${name}.ts`, import.meta.url).pathname;

describe('threads that die', () => {
  it('survives a thread that dies while it has no task, and finishes the other thread’s items', async () => {
    const events: BatchEvent[] = [];
    // Sixteen admitted in one turn go out as two chunks of eight, one per thread (fewer would go
    // to one thread as one chunk, pool/dispatcher.ts): the late throwers on one, the slow on the other.
    const items = [...chatItems(8, 'late-throw'), ...chatItems(8, 'slow')];
    const { results } = await runBatch({ items, baseURL: 'http://127.0.0.1:9/v1', task: fixture('faulty'), threads: 2, concurrency: 16, onEvent: (e) => events.push(e) });
    expectOneResultEach(items, results);
    expect(categories(results)).toEqual({ ok: 16 });
    expect(events.filter((e) => e.type === 'thread-died' && e.custom_id === null)).toHaveLength(1);
  });

  for (const [threads, concurrency] of [[1, 64], [2, 64], [4, 256]] as const) {
    it(`fails only the item that kills its thread, among 300 good ones, ${concurrency} in flight (${threads} thread(s))`, async () => {
      const sim = await start({ latencyMs: 5 });
      const items = [...chatItems(150, 'a'), chatItem('crash-1'), ...chatItems(150, 'b')];
      const { results } = await runBatch({ items, baseURL: sim.url, task: fixture('crashes'), threads, concurrency, maxAttempts: 3 });
      expectOneResultEach(items, results);
      expect(categories(results)).toEqual({ ok: 300, worker_crash: 1 });
      const killer = results.find((r) => r.custom_id === 'crash-1');
      expect(killer?.ok === false && killer.error.message).toMatch(/^its worker thread died 3 time\(s\)/);
    }, 120_000); // three thread restarts, each slow on a loaded machine
  }
});

describe('observers and values', () => {
  it('goes on through cooldowns when the observer throws, and reports the observer’s error once', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const sim = await start({ latencyMs: 5, faults: { storms: [{ holdUntilInFlight: 8, hint: { header: 'retry-after-ms', ms: 50 } }, { holdUntilInFlight: 8, hint: { header: 'retry-after-ms', ms: 50 } }] } });
      const items = chatItems(40);
      const { results, summary } = await runBatch({
        items,
        baseURL: sim.url,
        threads: 2,
        concurrency: 8,
        rampStart: 8, // the second storm needs 8 in flight again
        rampJitterMs: 0,
        onEvent: () => {
          throw new Error('observer bug');
        },
      });
      expect(categories(results)).toEqual({ ok: 40 });
      expect(summary.cooldowns).toBe(2);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      const ours = warnings.filter((w) => w.message.includes('observer bug'));
      expect(ours).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('fails a post-processed value that cannot be sent as task_error naming the part, and pays for nothing twice', async () => {
    const sim = await start({ latencyMs: 5 });
    const items = [...chatItems(40, 'a'), chatItem('uncloneable-1'), ...chatItems(40, 'b')];
    const { results } = await runBatch({ items, baseURL: sim.url, task: fixture('uncloneable'), threads: 2, concurrency: 32 });
    expectOneResultEach(items, results);
    expect(categories(results)).toEqual({ ok: 80, task_error: 1 });
    const bad = results.find((r) => r.custom_id === 'uncloneable-1');
    expect(bad?.ok === false && bad.error.message).toBe('task uncloneable: postProcess returned a value that cannot be sent between threads: value.nested.render is a function');
    expect([...successesByKey(sim.requests).values()].every((n) => n === 1)).toBe(true);
    expect(sim.requests).toHaveLength(items.length);
  });
});

describe('task code that never returns', () => {
  it('is cut off at the item deadline, and its signal aborts what it started', async () => {
    const sim = await start({ faults: { scripts: { 'polite-hang-1': [{ kind: 'hang' }] } } });
    const polite = { custom_id: 'polite-hang-1', body: { model: 'sim', sim_url: sim.url, messages: [{ role: 'user', content: 'polite-hang-1' }] } };
    const items = [chatItem('hang-1'), polite, chatItem('fine')];
    const { results } = await runBatch({ items, baseURL: sim.url, task: fixture('faulty'), threads: 1, itemDeadlineMs: 400 });
    expectOneResultEach(items, results);
    expect(categories(results)).toEqual({ ok: 1, timeout: 2 });
    await expect.poll(() => sim.requests.find((r) => r.key === 'polite-hang-1')?.clientAborted).toBe(true);
  });
});

describe('long waits', () => {
  const DAY_MS = 24 * 3_600_000;

  it('keeps deadlines longer than 24.8 days (the most a Node timer holds)', async () => {
    const sim = await start({ latencyMs: 5 });
    const items = chatItems(6);
    const { results, summary } = await runBatch({ items, baseURL: sim.url, threads: 1, deadlineMs: 30 * DAY_MS, itemDeadlineMs: 25 * DAY_MS });
    expect(categories(results)).toEqual({ ok: 6 });
    expect(summary.stopped).toBeNull();
  });

  it('waits out a 30-day Retry-After until the run deadline, then stops the run saying what it waited for', { timeout: 30_000 }, async () => {
    const overflows: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const sim = await start({ latencyMs: 5, faults: { scripts: { hot: [{ status: 429, hint: { header: 'retry-after-ms', ms: 30 * DAY_MS } }] } } });
      const items = [chatItem('hot'), ...chatItems(3)];
      const started = Date.now();
      const { results, summary } = await runBatch({ items, baseURL: sim.url, threads: 1, concurrency: 1, deadlineMs: 8_000 }); // room for the thread to start on a loaded machine
      expectOneResultEach(items, results);
      // Nothing failed before the deadline: the run was stopped by it (exit 3 in the CLI, resumable).
      expect(Date.now() - started).toBeGreaterThanOrEqual(7_990);
      expect(summary.stopped?.reason).toBe('the run deadline passed');
      const hot = results.find((r) => r.custom_id === 'hot');
      expect(hot?.stats.rateLimited).toBe(1); // it was sent, and rate limited, well before the deadline
      expect(hot?.ok === false && hot.error.category).toBe('aborted');
      expect(hot?.ok === false && hot.error.message).toMatch(/the run deadline passed while the item waited for the shared cooldown \(due to end at \d{4}-/);
      expect(overflows).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('a blocked main thread', () => {
  it('does not stretch a cooldown: a waiting worker ends it once its end has passed', async () => {
    const sim = await startSimThread({ latencyMs: 5, faults: { storms: [{ holdUntilInFlight: 8, hint: { header: 'retry-after-ms', ms: 200 } }] } });
    try {
      const items = chatItems(16);
      const { results } = await runBatch({
        items,
        baseURL: sim.url,
        threads: 2,
        concurrency: 8,
        rampStart: 8,
        rampJitterMs: 0,
        onEvent: (event) => {
          // The consumer's synchronous work holds the main thread for 3 s as the cooldown opens.
          if (event.type !== 'cooldown-opened') return;
          const until = Date.now() + 3_000;
          while (Date.now() < until);
        },
      });
      expect(categories(results)).toEqual({ ok: 16 });
      const requests = await sim.requests();
      const storm = requests.slice(0, 8);
      expect(storm.every((r) => r.status === 429)).toBe(true);
      const firstAnswer = Math.min(...storm.map((r) => r.answeredAt ?? Infinity));
      const resumed = Math.min(...requests.slice(8).map((r) => r.arrivedAt));
      // The pause the server asked for (200 ms), not the 3 s the main thread was away.
      expect(resumed).toBeGreaterThanOrEqual(firstAnswer + 200 - CLOCK_SLACK_MS);
      expect(resumed - firstAnswer).toBeLessThan(2_000);
    } finally {
      await sim.close();
    }
  });
});

describe('the AIMD ceiling', () => {
  it('drops after two cooldowns in a row, even when an answer to a request sent before them came back in between', async () => {
    const rl = (delayMs: number, ms: number) => ({ status: 429, delayMs, hint: { header: 'retry-after-ms' as const, ms } });
    // "hot" opens a cooldown at ~20 ms; "old" was sent before it and succeeds at ~200 ms, after
    // that cooldown ended; hot's retry opens the next cooldown at ~320 ms. Nothing sent between
    // the two cooldowns succeeded: the ceiling is too high.
    const sim = await start({ faults: { scripts: { hot: [rl(20, 100), rl(200, 50)], old: [{ delayMs: 200 }] } } });
    const events: BatchEvent[] = [];
    const { results, summary } = await runBatch({
      items: [chatItem('hot'), chatItem('old')],
      baseURL: sim.url,
      threads: 1,
      concurrency: 2,
      rampStart: 1,
      rampJitterMs: 0,
      onEvent: (e) => events.push(e),
    });
    expect(categories(results)).toEqual({ ok: 2 });
    expect(summary.cooldowns).toBe(2);
    // Halved as the second cooldown ended (successes then add it back: additive increase).
    expect(events.find((e) => e.type === 'ceiling-changed')).toEqual({ type: 'ceiling-changed', from: 2, to: 1, why: 'cooldowns' });
  });
});
