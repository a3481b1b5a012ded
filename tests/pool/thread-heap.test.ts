// Each worker thread's young generation grows with the items it holds (pool.ts): what a scavenge
// copies is mostly the items in flight, so a thread holding many needs room to collect cheaply,
// and one holding few keeps the small default that keeps the CLI's memory down.
import { afterEach, describe, expect, it } from 'vitest';
import { createControlBlock } from '../../src/control/control-block.js';
import { createPool, type ItemPool } from '../../src/pool/pool.js';
import { ThreadBalancer } from '../../src/pool/thread-balancer.js';
import { resolveOptions } from '../../src/run/options.js';
import { workerSettings } from '../../src/run/worker-settings.js';

let pool: ItemPool | undefined;

afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

async function youngGenerationOfThreads(threads: number, concurrency: number): Promise<number[]> {
  const resolved = resolveOptions({ items: [], baseURL: 'http://127.0.0.1:9/v1', threads, concurrency });
  pool = createPool({ settings: workerSettings(resolved, createControlBlock(concurrency, threads * 2 + 8), null, false) }, threads, concurrency, new ThreadBalancer());
  // A thread's limits are known once it is online.
  await pool.run({ firstSeq: 0, items: [] });
  const limits = pool.threads.map((thread) => thread.resourceLimits?.maxYoungGenerationSizeMb ?? -1);
  await pool.destroy();
  pool = undefined;
  return limits;
}

describe('the worker threads’ young generation', () => {
  it('stays at 12 MB at the default concurrency and grows with the items a thread holds', async () => {
    expect(await youngGenerationOfThreads(1, 64)).toEqual([12]);
    expect(await youngGenerationOfThreads(2, 1024)).toEqual([24, 24]);
    expect(await youngGenerationOfThreads(1, 100_000)).toEqual([48]);
  });
});
