// The default thread count (run/thread-count.ts): one per core for a task with work of its own
// in the threads (postProcess, call), one fewer (at least 1) otherwise — the rule itself, and that
// a run without `threads` starts that many threads (real pool, real HTTP to the simulator).
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../src/model/outcome.js';
import { runBatch } from '../../src/run/run-batch.js';
import { defaultThreads } from '../../src/run/thread-count.js';
import { defineTask } from '../../src/task/task.js';
import { chatItems } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();
const fixture = (name: string) => new URL(`../fixtures/tasks/${name}.ts`, import.meta.url).pathname;
const cores = availableParallelism();

describe('default thread count', () => {
  it('is one per core with postProcess or call, else one fewer, at least 1', () => {
    const own = [defineTask({ postProcess: (value) => value }), defineTask({ call: () => ({}) })];
    const none = [undefined, defineTask({ buildRequest: () => ({}) }), defineTask({})];
    for (const n of [1, 2, 8]) {
      for (const task of own) expect(defaultThreads(task, n)).toBe(n);
      for (const task of none) expect(defaultThreads(task, n)).toBe(Math.max(1, n - 1));
    }
  });

  it('starts one thread per core for a task with a call', async () => {
    // which-thread answers in-process after 20 ms with its thread's id; 200 items at 64 in flight reach every thread.
    const { results } = await runBatch({ items: chatItems(200), baseURL: 'http://127.0.0.1:9/v1', task: fixture('which-thread'), concurrency: 64 });
    const threads = new Set(results.map((r) => (r.ok ? /"content":"(\d+) /.exec(JSON.stringify(r.body))?.[1] : undefined)));
    expect(threads.has(undefined)).toBe(false);
    expect(threads.size).toBe(cores);
  });

  it('leaves a core to the main thread when the threads only send requests', async () => {
    const sim = await start({ latencyMs: 20 });
    const items: BatchItem[] = Array.from({ length: 200 }, (_, i) => ({ custom_id: `r${i}`, record: { custom_id: `r${i}` } }));
    const { summary } = await runBatch({ items, baseURL: sim.url, task: fixture('thread-in-prompt'), concurrency: 64 });
    expect(summary.succeeded).toBe(200);
    expect(new Set(sim.requests.map((r) => r.key)).size).toBe(Math.max(1, cores - 1));
  });
});
