// The library's entry points: streamBatch (results as they finish, bounded memory) and runBatch
// (everything at once, for small batches and tests).

import { createControlBlock } from './control-block.js';
import { CooldownKeeper } from './cooldown-keeper.js';
import { BatchItemError } from './errors.js';
import type { WorkerSettings } from './item-runner.js';
import { resolveOptions, type BatchOptions } from './options.js';
import { loadTask } from './task-loader.js';
import type { BatchItem, ItemOutcome, ItemStats } from './outcome.js';
import { createPool } from './pool.js';
import { redact } from './redact.js';
import { readLive, type LiveStats } from './live-stats.js';
import { mapConcurrent } from './scheduler.js';
import { SummaryBuilder, type BatchSummary } from './summary.js';
import { emptyUsage } from './usage.js';

/**
 * One item's result, as library users see it. `Value` types a task's result: for a task file,
 * `ItemResult<TaskValue<typeof task>>` (see task.ts).
 */
export type ItemResult<Value = unknown> =
  | (Omit<Extract<ItemOutcome, { ok: true }>, 'value'> & { value?: Value })
  | (Omit<Extract<ItemOutcome, { ok: false }>, 'error'> & { error: BatchItemError });

export interface BatchStream<Value = unknown> extends AsyncGenerator<ItemResult<Value>, void, undefined> {
  /** Counts so far; final once the stream has ended. */
  summary(): BatchSummary;
  /** A cheap live view (in flight, ramp, open cooldown, tokens) for progress displays. */
  live(): LiveStats;
}

function noStats(): ItemStats {
  return { attempts: 0, rateLimited: 0, invalidOutputs: 0, latencyMs: 0, usage: emptyUsage() };
}

function toResult<Value>(outcome: ItemOutcome): ItemResult<Value> {
  // The worker produced `value` with the task the caller named; its type is the caller's claim.
  return outcome.ok ? (outcome as ItemResult<Value>) : { ...outcome, error: new BatchItemError(outcome.error) };
}

/** Results in completion order. At most `concurrency` items are held in memory at any time. */
export function streamBatch<Value = unknown>(options: BatchOptions): BatchStream<Value> {
  const resolved = resolveOptions(options);
  const block = createControlBlock(resolved.concurrency);
  const summary = new SummaryBuilder(block, resolved.prices);

  async function* run(): AsyncGenerator<ItemResult<Value>, void, undefined> {
    // Load the task here first: a broken task file fails the run at once, not every item.
    if (resolved.task !== undefined) await loadTask(resolved.task);
    const settings: WorkerSettings = {
      control: block.buffer,
      baseURL: resolved.baseURL,
      apiKey: resolved.apiKey,
      headers: resolved.headers,
      // Each thread holds at most its share of the items, each with at most one request open.
      maxSockets: Math.ceil(resolved.concurrency / resolved.threads),
      model: resolved.model ?? null,
      taskFile: resolved.task ?? null,
      attemptTimeoutMs: resolved.attemptTimeoutMs,
      maxAttempts: resolved.maxAttempts,
      maxRateLimitRetries: resolved.maxRateLimitRetries,
      backoffBaseMs: resolved.backoffBaseMs,
      backoffMaxMs: resolved.backoffMaxMs,
      cooldownBaseMs: resolved.cooldownBaseMs,
      cooldownMaxMs: resolved.cooldownMaxMs,
      rampJitterMs: resolved.rampJitterMs,
    };
    const pool = createPool(settings, resolved.threads, resolved.concurrency);
    const keeper = new CooldownKeeper(block, {
      rampStart: resolved.rampStart,
      ...(resolved.onEvent ? { onEvent: resolved.onEvent } : {}),
    });
    // No AbortSignal is ever passed to pool.run: Piscina runs an abortable task alone on its
    // thread, which would cap each thread at one item in flight.
    const dispatch = (item: BatchItem): Promise<ItemOutcome> =>
      pool.run(item).catch(
        (error: unknown): ItemOutcome => ({
          ok: false,
          custom_id: item.custom_id,
          error: {
            category: 'transient',
            code: 'worker_failed',
            status: null,
            message: redact(`worker thread failed: ${error instanceof Error ? error.message : String(error)}`, resolved.apiKey),
          },
          requestId: null,
          body: null,
          stats: noStats(),
        }),
      );
    try {
      for await (const outcome of mapConcurrent(resolved.items, resolved.concurrency, dispatch)) {
        summary.add(outcome);
        yield toResult<Value>(outcome);
      }
    } finally {
      await keeper.stop();
      await pool.destroy();
    }
  }

  return Object.assign(run(), { summary: () => summary.build(), live: () => readLive(block, summary.counts()) });
}

/** Runs the whole batch and resolves with every result (in completion order) and the summary. */
export async function runBatch<Value = unknown>(options: BatchOptions): Promise<{ summary: BatchSummary; results: ItemResult<Value>[] }> {
  const stream = streamBatch<Value>(options);
  const results: ItemResult<Value>[] = [];
  for await (const result of stream) results.push(result);
  return { summary: stream.summary(), results };
}
