// Threads started before their run's settings are known (the CLI starts them while it scans the
// input): they wait for the settings, run the items once a run adopts them, and a thread that
// Piscina starts later, to replace a dead one, gets the settings too.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ItemResult } from '../../src/model/item-result.js';
import { createControlBlock } from '../../src/control/control-block.js';
import { PrestartedPool } from '../../src/pool/prestart.js';
import { resolveOptions } from '../../src/run/options.js';
import { workerSettings } from '../../src/run/worker-settings.js';
import { streamBatch } from '../../src/run/run-batch.js';
import { chatItem, chatItems, expectEachSucceededOnce } from '../helpers/batch.js';
import { useSimulator } from '../helpers/simulator.js';

const start = useSimulator();
const crashes = new URL('../fixtures/tasks/crashes.ts', import.meta.url).pathname;

async function all(stream: AsyncIterable<ItemResult>): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  for await (const result of stream) results.push(result);
  return results;
}

describe('threads started before the run', () => {
  it('wait for the settings, then run the items of the run that adopts them', async () => {
    const sim = await start({ latencyMs: 5 });
    const threads = new PrestartedPool({ threads: 2, concurrency: 16 });
    try {
      // Long enough for both threads to have booted and asked before the settings exist.
      await sleep(1500);
      const items = chatItems(60);
      const results = await all(streamBatch({ items, baseURL: sim.url, threads: 2, concurrency: 16 }, { threads }));
      expectEachSucceededOnce(items, results);
      expect(sim.stats.requests).toBe(60);
    } finally {
      await threads.close();
    }
  });

  it('give the settings to a thread started later in place of a dead one', async () => {
    const sim = await start({ latencyMs: 5 });
    // One thread: once the crash takes it down, only its replacement can run the other items.
    const threads = new PrestartedPool({ threads: 1, concurrency: 8 });
    try {
      const items = [chatItem('crash-1'), ...chatItems(40)];
      const results = await all(streamBatch({ items, baseURL: sim.url, task: crashes, threads: 1, concurrency: 8, maxAttempts: 2 }, { threads }));
      expect(results).toHaveLength(41);
      expect(results.filter((r) => r.ok)).toHaveLength(40);
      expect(results.find((r) => r.custom_id === 'crash-1')).toMatchObject({ ok: false, error: { category: 'worker_crash' } });
    } finally {
      await threads.close();
    }
  });

  it('end when closed without a run, and refuse a run of another shape', async () => {
    const threads = new PrestartedPool({ threads: 2, concurrency: 16 });
    // What the CLI asks before it takes threads its entry started on a guess (cli/early-threads.ts).
    expect(threads.fits({ threads: 2, concurrency: 16, memoryMb: undefined })).toBe(true);
    expect(threads.fits({ threads: 1, concurrency: 16 })).toBe(false);
    expect(threads.fits({ threads: 2, concurrency: 64 })).toBe(false);
    expect(threads.fits({ threads: 2, concurrency: 16, memoryMb: 512 })).toBe(false);
    const stream = streamBatch({ items: chatItems(3), baseURL: 'http://127.0.0.1:9/v1', threads: 1, concurrency: 16 }, { threads });
    await expect(stream.next()).rejects.toThrow(/threads started for .*"threads":2.*the run wants .*"threads":1/);
    await threads.close();
    await threads.close();
    expect(threads.fits({ threads: 2, concurrency: 16 })).toBe(false);
    const settings = workerSettings(resolveOptions({ items: [], baseURL: 'http://127.0.0.1:9/v1', threads: 2, concurrency: 16 }), createControlBlock(16, 12), null, false);
    expect(() => threads.adopt(settings, { threads: 2, concurrency: 16 })).toThrow(/after they were closed/);
  });
});
