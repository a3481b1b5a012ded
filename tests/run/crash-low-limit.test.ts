// A worker thread that dies while it holds an in-flight permit, with the limit low: the main thread
// gives the dead thread's permits back (control/thread-slots.ts), so the gate does not stay shut,
// IN_FLIGHT is 0 at the end and the run finishes.
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../src/model/outcome.js';
import type { ItemResult } from '../../src/model/item-result.js';
import { streamBatch } from '../../src/run/run-batch.js';
import { categories, expectOneResultEach } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();
const task = new URL('../fixtures/tasks/crash-on-wire.ts', import.meta.url).pathname;

describe('a thread crash at a low in-flight limit', () => {
  it('gives the dead thread’s permits back: IN_FLIGHT returns to 0 and every other item succeeds', { timeout: 90_000 }, async () => {
    const sim = await start({ latencyMs: 20 });
    const item = (customId: string): BatchItem => ({ custom_id: customId, body: { model: 'sim', sim_url: sim.url, messages: [{ role: 'user', content: customId }] } });
    const good = Array.from({ length: 30 }, (_, i) => item(`good-${i}`));
    const items = [...good.slice(0, 10), item('crash-1'), ...good.slice(10)];
    // Two permits in all. The killer dies holding one, twice (maxAttempts 2): were a dead thread's
    // permit lost, the second death would leave none and the run would never end.
    const stream = streamBatch({ items, baseURL: sim.url, task, threads: 2, concurrency: 2, maxAttempts: 2 });
    const results: ItemResult[] = [];
    for await (const result of stream) results.push(result);

    expectOneResultEach(items, results);
    expect(categories(results)).toEqual({ ok: 30, worker_crash: 1 });
    const killer = results.find((r) => r.custom_id === 'crash-1');
    expect(killer?.ok === false && killer.error.message).toMatch(/^its worker thread died 2 time\(s\)/);
    expect(stream.live().inFlight).toBe(0);
  });
});
