// The worker-thread pool: Piscina running threads/item-worker, each thread holding many items in
// flight at once (they spend nearly all their time awaiting the network).

import { Piscina } from 'piscina';
import type { WorkerSettings } from './item-runner.js';
import type { BatchItem, ItemOutcome } from './outcome.js';

// From the built dist/ the worker entry is plain JS; from TypeScript source (tests, tsx) a small
// JS entry registers the tsx loader first (see threads/item-worker.source.mjs).
const fromSource = import.meta.url.endsWith('.ts');
const workerFile = new URL(fromSource ? '../threads/item-worker.source.mjs' : '../threads/item-worker.js', import.meta.url);

export type ItemPool = Piscina<BatchItem, ItemOutcome>;

export function createPool(settings: WorkerSettings, threads: number, concurrency: number, memoryMb?: number): ItemPool {
  return new Piscina<BatchItem, ItemOutcome>({
    filename: workerFile.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // Enough slots per thread that `concurrency` items fit across the threads; Piscina's
    // least-busy balancer spreads them evenly.
    concurrentTasksPerWorker: Math.ceil(concurrency / threads),
    // Not Piscina's default 'sync': it parks an idle worker in a blocking Atomics.wait, which
    // freezes that thread's event loop — its sockets, timers and our own Atomics.waitAsync
    // waiters — until the next task arrives. Our workers must keep running between tasks.
    atomics: 'disabled',
    workerData: settings,
    // A thread over its heap limit dies with ERR_WORKER_OUT_OF_MEMORY; Piscina starts another.
    ...(memoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: memoryMb } }),
  });
}
