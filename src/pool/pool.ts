// The worker-thread pool: Piscina running threads/item-worker, each thread holding many items in
// flight at once (they spend nearly all their time awaiting the network). Items travel in chunks,
// one Piscina task for many items (dispatcher.ts, chunk-runner.ts).

import { Piscina } from 'piscina';
import type { ChunkOutcomes, ItemChunk } from './messages.js';
import type { ThreadStart } from './settings-channel.js';
import type { ThreadBalancer } from './thread-balancer.js';

// From the built dist/ the worker entry is plain JS; from TypeScript source (tests, tsx) a small
// JS entry registers the tsx loader first (see threads/item-worker.source.mjs).
const fromSource = import.meta.url.endsWith('.ts');
const workerFile = new URL(fromSource ? '../../threads/item-worker.source.mjs' : '../../threads/item-worker.js', import.meta.url);

export type ItemPool = Piscina<ItemChunk, ChunkOutcomes>;

// Piscina loads the worker file with require() first and falls back to import(). On Node 20 a
// require() of an ES module (require(esm)) can abort the whole process while many threads start
// at once (`FATAL ERROR: v8::Module::IsGraphAsync`, cf. nodejs/node#55782; seen with --threads
// 64). With require(esm) off in the workers, that require() fails at once and Piscina imports.
const NO_REQUIRE_ESM = '--no-experimental-require-module';
// Node refuses to start a worker whose execArgv holds a flag only a whole process can have: V8's
// (`node --max-semi-space-size=4`, --stack-size, --expose-gc …) and a few of Node's (--title).
// No API tells them apart beforehand, so the first pool passes every flag of the process and, if
// refused, drops the flags Node's error names and tries again; later pools reuse what worked.
// V8's flags are process-wide, so the threads still run with them.
let workerExecArgv = process.allowedNodeEnvironmentFlags.has(NO_REQUIRE_ESM) ? [...process.execArgv, NO_REQUIRE_ESM] : process.execArgv;

/** The flags a refused worker start named (ERR_WORKER_INVALID_EXEC_ARGV), or null for any other error. */
function refusedFlags(error: unknown): string[] | null {
  if (!(error instanceof Error) || !('code' in error) || error.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return null;
  const listed = /invalid execArgv flags: (.+)$/.exec(error.message)?.[1];
  return listed === undefined ? null : listed.split(', ');
}

// A thread's young generation (where each request's short-lived objects are born) grows to V8's
// default of ~48 MB under a steady stream of items — per thread, so ~100 MB of a two-thread
// CLI's RSS. A scavenge copies what is alive, mostly the thread's items in flight, so its cost
// per item grows with the items in flight and falls with the young generation's size. At 64–256
// items a thread, 12 MB costs no measurable CPU (171–175 MB peak RSS against 224–233 MB, CPU
// per item within the noise: benchmarks/README.md, "CLI memory"); at 512 items a thread and an
// instant answer, 24 MB took a median 11 % off the CPU per item, 30 % off V8's helper threads
// (7 runs side by side: benchmarks/README.md, "Seventh pass"). So: 12 MB, plus 3 MB for every
// 128 items a thread holds, up to V8's default.
const YOUNG_GENERATION_BASE_MB = 12;
const YOUNG_GENERATION_MB_PER_128_ITEMS = 3;
const YOUNG_GENERATION_MAX_MB = 48;

/** The young generation of each worker thread, in MB, for `concurrency` items shared by `threads`. */
export function youngGenerationMb(concurrency: number, threads: number): number {
  const perThread = Math.ceil(concurrency / threads);
  return Math.min(YOUNG_GENERATION_MAX_MB, YOUNG_GENERATION_BASE_MB + Math.floor(perThread / 128) * YOUNG_GENERATION_MB_PER_128_ITEMS);
}

/** A pool whose threads start with `start`: the run's settings, or the channel they will come on (prestart.ts). */
export function createPool(start: ThreadStart, threads: number, concurrency: number, balancer: ThreadBalancer, memoryMb?: number): ItemPool {
  for (;;) {
    try {
      return startPool(start, threads, concurrency, balancer, workerExecArgv, memoryMb);
    } catch (error) {
      const refused = refusedFlags(error);
      const kept = refused === null ? workerExecArgv : workerExecArgv.filter((flag) => !refused.includes(flag));
      if (kept.length === workerExecArgv.length) throw error;
      workerExecArgv = kept;
    }
  }
}

function startPool(start: ThreadStart, threads: number, concurrency: number, balancer: ThreadBalancer, execArgv: string[], memoryMb?: number): ItemPool {
  return new Piscina<ItemChunk, ChunkOutcomes>({
    filename: workerFile.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // A chunk holds at least one item, so `concurrency` chunks per thread never queue in Piscina
    // while items are admitted. Chunks go to the thread with the fewest items (thread-balancer.ts).
    concurrentTasksPerWorker: concurrency,
    loadBalancer: balancer.pick,
    // Not Piscina's default 'sync': it parks an idle worker in a blocking Atomics.wait, which
    // freezes that thread's event loop — its sockets, timers and our own Atomics.waitAsync
    // waiters — until the next task arrives. Our workers must keep running between tasks.
    atomics: 'disabled',
    workerData: start,
    execArgv,
    // A thread over its old-generation limit dies with ERR_WORKER_OUT_OF_MEMORY; Piscina starts another.
    resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb(concurrency, threads), ...(memoryMb === undefined ? {} : { maxOldGenerationSizeMb: memoryMb }) },
  });
}
