// The worker-thread pool: Piscina running threads/item-worker, each thread holding many items in
// flight at once (they spend nearly all their time awaiting the network).

import { Piscina } from 'piscina';
import type { WorkerSettings } from './item-runner.js';
import type { BatchItem, ItemOutcome } from './outcome.js';

// Running from TypeScript source (tests, tsx) the worker is a .ts file and needs the tsx loader;
// from the built dist/ it is plain JS.
const fromSource = import.meta.url.endsWith('.ts');
const workerFile = new URL(`../threads/item-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);

export type ItemPool = Piscina<BatchItem, ItemOutcome>;

export function createPool(settings: WorkerSettings, threads: number, concurrency: number, memoryMb?: number): ItemPool {
  const hasTsx = process.execArgv.some((arg) => arg.includes('tsx'));
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
    ...(fromSource && !hasTsx ? { execArgv: [...process.execArgv, '--import', 'tsx'] } : {}),
  });
}
