// Runs batch-llm the way a library user would (streamBatch, results consumed as they come and
// dropped), and reports what the scenarios compare across clients.
import type { BatchOptions } from '../../src/run/options.js';
import { streamBatch } from '../../src/run/run-batch.js';
import type { BatchSummary } from '../../src/run/summary.js';
import { splitThreadCpu, threadCpuMs, type ThreadSplit } from './cpu.js';

export interface BatchLlmResult {
  succeeded: number;
  failed: number;
  by_category: BatchSummary['by_category'];
  /** Requests sent, counted by batch-llm (retries included). */
  requests: number;
  rate_limited: number;
  cooldowns: number;
  /** From the start to the last result. */
  wall_ms: number;
  /** From the start to the first result: thread start-up (loading tsx and the task in each thread). */
  first_result_ms: number;
  /**
   * With `threadCpuAt`: CPU per thread kind from the first result to that many results (steady
   * state, thread start-up left out), and the main thread's event-loop utilization over the same
   * span (near 1 = it is never idle: it bounds the run).
   */
  threads?: ThreadSplit & { main_elu: number };
}

export async function runBatchLlm(options: BatchOptions, threadCpuAt?: number): Promise<BatchLlmResult> {
  const existing = threadCpuAt === undefined ? undefined : threadCpuMs();
  let from = existing;
  let elu = performance.eventLoopUtilization();
  const started = performance.now();
  let first = 0;
  let last = started;
  let seen = 0;
  let threads: BatchLlmResult['threads'];
  const stream = streamBatch(options);
  for await (const _ of stream) {
    last = performance.now();
    seen += 1;
    if (first === 0) {
      first = last;
      if (existing !== undefined) {
        from = threadCpuMs();
        elu = performance.eventLoopUtilization();
      }
    }
    // Taken while the pool's threads are still alive (they end with the stream).
    if (existing !== undefined && from !== undefined && seen === threadCpuAt) {
      threads = { ...splitThreadCpu(existing, from, threadCpuMs()), main_elu: performance.eventLoopUtilization(elu).utilization };
    }
  }
  // Up to the last result: closing the pool afterwards is not part of the work.
  const wall = last - started;
  const summary = stream.summary();
  return {
    succeeded: summary.succeeded,
    failed: summary.failed,
    by_category: summary.by_category,
    requests: summary.requests,
    rate_limited: summary.rate_limited,
    cooldowns: summary.cooldowns,
    wall_ms: wall,
    first_result_ms: first - started,
    ...(threads === undefined ? {} : { threads }),
  };
}
