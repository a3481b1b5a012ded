// Deadlines, fail-fast, stopping, crashing threads and spend caps: every input item still ends
// as exactly one result.
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../src/model/outcome.js';
import type { ItemResult } from '../../src/model/item-result.js';
import { runBatch, streamBatch } from '../../src/run/run-batch.js';
import type { ScriptStep } from '../../src/sim/index.js';
import { categories, chatItem, chatItems, expectOneResultEach } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();

describe('clocks', () => {
  it('fails an item at its deadline when its request never answers, instead of hanging', async () => {
    const sim = await start({ faults: { scripts: { stuck: [{ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' }] } } });
    const { results } = await runBatch({ items: [chatItem('stuck'), chatItem('fine')], baseURL: sim.url, threads: 1, itemDeadlineMs: 400 });
    const stuck = results.find((r) => r.custom_id === 'stuck');
    expect(stuck?.ok === false && stuck.error).toMatchObject({ category: 'timeout', message: 'item deadline of 400 ms passed' });
    expect(stuck?.stats.attempts).toBe(1); // the one attempt was cut off at the deadline, not retried
    expect(results.find((r) => r.custom_id === 'fine')?.ok).toBe(true);
    expect(sim.requests.find((r) => r.key === 'stuck')?.clientAborted).toBe(true);
  });

  it('fails an item at once when the open cooldown would outlast its deadline', async () => {
    const long429: ScriptStep = { status: 429, hint: { header: 'retry-after', ms: 30_000 } };
    const sim = await start({ faults: { scripts: { hot: [long429] } } });
    const { results } = await runBatch({ items: [chatItem('hot')], baseURL: sim.url, threads: 1, itemDeadlineMs: 5_000 });
    expect(results[0]?.ok === false && results[0].error.category).toBe('timeout');
    // It did not sleep towards its deadline: it failed as soon as it met the 30 s cooldown.
    expect(results[0]?.stats.latencyMs).toBeLessThan(2_500);
    expect(sim.requests).toHaveLength(1);
  });

  it('ends the whole run at its deadline: attempts on the wire are cut off and nothing else starts', async () => {
    const scripts: Record<string, ScriptStep[]> = {};
    for (let i = 0; i < 40; i += 1) scripts[`item-${i}`] = [{ kind: 'hang' }];
    const sim = await start({ faults: { scripts } });
    const items = chatItems(40);
    const { results, summary } = await runBatch({ items, baseURL: sim.url, threads: 2, concurrency: 8, deadlineMs: 500 });
    expectOneResultEach(items, results);
    // The attempts on the wire were cut off, not left hanging.
    expect(sim.requests.every((r) => r.clientAborted)).toBe(true);
    expect(categories(results)).toEqual({ aborted: 40 });
    expect(summary.stopped?.reason).toBe('the run deadline passed');
    expect(sim.requests.length).toBeLessThanOrEqual(8);
  });
});

describe('fail-fast', () => {
  it('stops the run on an empty quota within moments, with fewer than 2 × concurrency requests', async () => {
    const scripts: Record<string, ScriptStep[]> = {};
    const items = chatItems(300);
    for (const item of items) scripts[item.custom_id] = [{ status: 429, code: 'insufficient_quota' }];
    const sim = await start({ latencyMs: 20, faults: { scripts } });
    const stream = streamBatch({ items, baseURL: sim.url, threads: 2, concurrency: 16 });
    const results: ItemResult[] = [];
    let lastResultAt = 0;
    for await (const result of stream) {
      results.push(result);
      lastResultAt = Date.now();
    }
    const summary = stream.summary();
    // From the first request to the last result: the run stopped within moments.
    expect(lastResultAt - (sim.requests[0]?.arrivedAt ?? Infinity)).toBeLessThan(2_000);
    expect(sim.requests.length).toBeLessThan(32);
    expectOneResultEach(items, results);
    const counts = categories(results);
    expect(counts['quota']).toBeGreaterThanOrEqual(1);
    expect((counts['quota'] ?? 0) + (counts['aborted'] ?? 0)).toBe(300);
    expect(summary.stopped?.reason).toMatch(/^fail-fast on quota/);
  });

  it('stops the run on a rejected key, and never shows the key', async () => {
    const sim = await start({ apiKey: 'sk-the-right-key-000000' });
    const items = chatItems(200);
    const apiKey = 'sk-a-wrong-key-1234567890';
    const { results, summary } = await runBatch({ items, baseURL: sim.url, apiKey, threads: 2, concurrency: 16 });
    expect(sim.requests.length).toBeLessThan(32);
    expectOneResultEach(items, results);
    expect(categories(results)['auth']).toBeGreaterThanOrEqual(1);
    expect(summary.stopped?.reason).toMatch(/^fail-fast on auth/);
    expect(JSON.stringify({ results, summary })).not.toContain(apiKey);
  });
});

describe('stopping', () => {
  async function stopAfter(mode: 'drain' | 'cancel') {
    const sim = await start({ latencyMs: 600 });
    const items = chatItems(30);
    const stream = streamBatch({ items, baseURL: sim.url, threads: 2, concurrency: 6 });
    // Stop once all six first attempts are on the wire (the server has them, none answered).
    const server = sim;
    const timer = setInterval(() => {
      if (server.requests.length >= 6) {
        clearInterval(timer);
        stream.stop(mode, `test ${mode}`);
      }
    }, 5);
    const results: ItemResult[] = [];
    for await (const result of stream) results.push(result);
    clearInterval(timer);
    expectOneResultEach(items, results);
    return { results, summary: stream.summary(), sim };
  }

  it('drains: attempts on the wire finish, nothing new starts, the rest is aborted', async () => {
    const { results, summary, sim } = await stopAfter('drain');
    expect(categories(results)).toEqual({ ok: 6, aborted: 24 });
    expect(summary.stopped).toEqual({ reason: 'test drain', mode: 'drain' });
    expect(sim.requests).toHaveLength(6);
  });

  it('cancels: attempts on the wire are aborted too', async () => {
    const { results, sim } = await stopAfter('cancel');
    expect(categories(results)).toEqual({ aborted: 30 });
    // The six attempts were cut off: the server never answered them.
    expect(sim.requests.every((r) => r.status === null)).toBe(true);
  });

  it('stops on the caller’s AbortSignal', async () => {
    const sim = await start({ latencyMs: 50 });
    const items = chatItems(500);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { results, summary } = await runBatch({ items, baseURL: sim.url, threads: 2, concurrency: 8, signal: controller.signal });
    expectOneResultEach(items, results);
    expect(summary.stopped?.reason).toBe('aborted by the caller');
    expect(categories(results)['aborted']).toBeGreaterThan(0);
  });
});

describe('worker threads that die', () => {
  const crashes = new URL('../fixtures/tasks/crashes.ts', import.meta.url).pathname;

  it('replaces a crashed thread, runs its other items again, and fails the item that keeps crashing it', async () => {
    const sim = await start({ latencyMs: 5 });
    const items = [...chatItems(20), chatItem('crash-1')];
    const { results } = await runBatch({ items, baseURL: sim.url, task: crashes, threads: 2, concurrency: 8, maxAttempts: 2 });
    expectOneResultEach(items, results);
    const crashed = results.find((r) => r.custom_id === 'crash-1');
    expect(crashed?.ok === false && crashed.error.category).toBe('worker_crash');
    expect(categories(results)).toEqual({ ok: 20, worker_crash: 1 });
  });

  it('survives a thread that runs out of its memory limit', async () => {
    const sim = await start({ latencyMs: 5 });
    const items = [...chatItems(10), chatItem('oom-1')];
    const { results } = await runBatch({ items, baseURL: sim.url, task: crashes, threads: 2, concurrency: 4, maxAttempts: 1, threadMemoryMb: 32 });
    expectOneResultEach(items, results);
    const oom = results.find((r) => r.custom_id === 'oom-1');
    expect(oom?.ok === false && oom.error).toMatchObject({ category: 'worker_crash' });
    expect(categories(results)['ok']).toBeGreaterThanOrEqual(9);
  }, 90_000); // the killer is found by two thread deaths (run/crash-retry.ts), each a slow restart on a loaded machine
});

describe('spend caps', () => {
  it('stops starting items before the token cap would be crossed and aborts the rest', async () => {
    const sim = await start({ completionTokens: 100 });
    const items = chatItems(200);
    const { results, summary } = await runBatch({ items, baseURL: sim.url, threads: 1, concurrency: 2, maxTokens: 2_000 });
    expectOneResultEach(items, results);
    expect(summary.tokens.total).toBeLessThanOrEqual(2_000);
    expect(summary.tokens.total).toBeGreaterThan(1_000);
    expect(summary.stopped?.reason).toBe('the token cap of 2000 would be crossed');
    const aborted = results.filter((r) => !r.ok);
    // Never started, or stopped at the gate while the run drained: either way, the cap is named.
    expect(aborted.every((r) => !r.ok && r.error.category === 'aborted' && r.error.message.endsWith('the token cap of 2000 would be crossed'))).toBe(true);
  });

  it('stops before the cost cap', async () => {
    const sim = await start({ completionTokens: 100 });
    const { summary } = await runBatch({
      items: chatItems(100),
      baseURL: sim.url,
      threads: 1,
      concurrency: 2,
      prices: { inputPerMillion: 0, outputPerMillion: 10_000 },
      maxCost: 10,
    });
    expect(summary.cost).toBeLessThanOrEqual(10);
    expect(summary.stopped?.reason).toBe('the cost cap of 10 would be crossed');
  });
});
