// How many worker threads a run gets when the caller does not say (`threads` / --threads).
//
// The rule, from side-by-side runs on a 2-core machine (benchmarks/README.md, "Threads"):
//   - A task that does CPU work of its own in the threads (postProcess, or a call that replaces
//     HTTP) gets one thread per core: that work runs in parallel, and the main thread's share per
//     item is small beside it (~0.15–0.6 ms against ~5 ms of postProcess). Measured on a quiet
//     machine: a ~6 ms SHA-256 postProcess, 2 threads ÷ 1 thread 1.45–1.6× (raw worker threads
//     doing only that hashing: ~1.17×; plain JS work scales ~1.85–2.0× on these cores); an
//     instant call, 1.47× (steady state, framework-overhead table). With a ~5–7 ms plain-JS
//     postProcess (benchmarks/tasks/cpu-heavy.ts), quiet machine: 1.76× as a library, 1.73×
//     from the CLI, against 1.76–1.87× for raw worker threads doing only that work.
//   - Otherwise an item costs the threads only its HTTP exchange (~100–250 µs of CPU), and the
//     main thread (reading input, admission, results, output: ~70 µs per item) is the run's
//     one serial part: one core is left to it, so cores − 1 threads, at least 1. Measured with a
//     fast endpoint, 2 threads ÷ 1 thread 0.80–0.92 on a loaded machine, 0.98–1.14 on a quiet one
//     (a second thread on 2 cores shared with the server adds CPU per item, ~+20 %, not
//     throughput); latency-bound at 50 ms, 256 in flight, ~1.0. Re-measured after the lighter
//     request path (benchmarks/README.md, "Fifth pass"), quiet: client-bound 1.10–1.15 at +7 %
//     CPU per item (client and server then fill 1.8 of the 2 cores), latency-bound 0.99 at
//     +19 %; one thread stays the default for 2 cores, where a second buys little and costs CPU.
// Above 2 cores the rule is not measured here; the main thread's ~70 µs per item bounds a run to
// ~14k items/s whatever the thread count, which cores − 1 threads reach long before.

import { availableParallelism } from 'node:os';
import type { PoolShape } from '../pool/prestart.js';
import type { Task } from '../task/task.js';
import type { ResolvedOptions } from './options.js';

/** Threads for a run whose task does work of its own in the threads (`ownWork`) or not, on `cores` cores. */
export function threadsFor(ownWork: boolean, cores = availableParallelism()): number {
  return ownWork ? cores : Math.max(1, cores - 1);
}

/** The default thread count for a run of `task` (undefined: bodies sent as given). */
export function defaultThreads(task: Task | undefined, cores = availableParallelism()): number {
  return threadsFor(task?.postProcess !== undefined || task?.call !== undefined, cores);
}

/**
 * The pool a run of `options` and `task` gets: the caller's threads or the default, its
 * concurrency and memory. One rule for the run and for the CLI, which starts the same pool
 * before the run begins (pool/prestart.ts) and must not start another shape.
 */
export function poolShape(options: Pick<ResolvedOptions, 'threads' | 'concurrency' | 'threadMemoryMb'>, task: Task | undefined): PoolShape {
  return { threads: options.threads ?? defaultThreads(task), concurrency: options.concurrency, memoryMb: options.threadMemoryMb };
}
