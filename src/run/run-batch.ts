// The library's entry points: streamBatch (results as they finish, bounded memory) and runBatch
// (everything at once, for small batches and tests).

import { createControlBlock } from '../control/control-block.js';
import { CooldownKeeper } from '../control/cooldown-keeper.js';
import { DispatcherClosed, RUN_STOPPED } from '../model/errors.js';
import { toResult, type ItemResult } from '../model/item-result.js';
import { serveEventChannels } from '../pool/event-channel.js';
import type { WorkerSettings } from '../attempt/settings.js';
import { readLive, type LiveStats } from './live-stats.js';
import { resolveOptions, type BatchOptions } from './options.js';
import { Dispatcher } from '../pool/dispatcher.js';
import { failedOutcome, type BatchItem, type ItemOutcome } from '../model/outcome.js';
import { createPool, type ItemPool } from '../pool/pool.js';
import { RateBudget } from '../control/rate-budget.js';
import { redact } from '../model/redact.js';
import { packageVersion } from '../model/version.js';
import { RunControl } from './run-control.js';
import { SpendCap } from './spend-cap.js';
import { mapConcurrent } from './admission.js';
import type { AbortMode } from '../control/stop.js';
import { SummaryBuilder, type BatchSummary } from './summary.js';
import { loadTask } from '../task/task-loader.js';
import { ThreadBalancer } from '../pool/thread-balancer.js';
import { reclaimDeadThreads } from '../control/thread-slots.js';
import { observeRun } from './run-observer.js';
import { endpointIdentity } from '../cache/request-key.js';
import { coalescer } from './coalesce-items.js';

export interface BatchStream<Value = unknown> extends AsyncGenerator<ItemResult<Value>, void, undefined> {
  /** Counts so far; final once the stream has ended. */
  summary(): BatchSummary;
  /** A cheap live view (in flight, ramp, open cooldown, tokens) for progress displays. */
  live(): LiveStats;
  /**
   * Stops the run: nothing new starts and every unfinished item gets an `aborted` result; in
   * `cancel` mode attempts on the wire are aborted too. Calling again with `cancel` upgrades a drain.
   */
  stop(mode: AbortMode, reason?: string): void;
}

function liveThreadIds(pool: ItemPool): Set<number> {
  return new Set(pool.threads.map((thread) => thread.threadId));
}

/** Results in completion order. At most `concurrency` items are held in memory at any time. */
export function streamBatch<Value = unknown>(options: BatchOptions): BatchStream<Value> {
  const resolved = resolveOptions(options);
  const startedAt = Date.now();
  // Room for every thread and, should some die, their replacements.
  const block = createControlBlock(resolved.concurrency, resolved.threads * 2 + 8);
  const summary = new SummaryBuilder(block, resolved.prices);
  const budget = new RateBudget(block, resolved.rateHeadroom);
  budget.configure('requests', resolved.rpm);
  budget.configure('tokens', resolved.tpm);
  const spendCap = new SpendCap({
    maxTokens: resolved.maxTokens ?? null,
    maxCost: resolved.maxCost ?? null,
    prices: resolved.prices,
    defaultAnswerTokens: resolved.defaultAnswerTokens,
  });
  summary.reportSpendCap(() => spendCap.report());
  const control = new RunControl(block, {
    failFast: new Set(resolved.failFast),
    abortMode: resolved.abortMode,
    deadlineAt: resolved.deadlineMs === undefined ? null : startedAt + resolved.deadlineMs,
    signal: resolved.signal,
  });

  async function* run(): AsyncGenerator<ItemResult<Value>, void, undefined> {
    // Load the task here first: a broken task file fails the run at once, not every item.
    if (resolved.task !== undefined) await loadTask(resolved.task);
    const observer = observeRun(resolved, () => readLive(block, summary.counts()));
    const { emit } = observer;
    control.onStop = emit && ((mode, reason) => emit({ type: 'run-stopping', mode, reason }));
    const settings: WorkerSettings = {
      control: block.buffer,
      baseURL: resolved.baseURL,
      apiKey: resolved.apiKey,
      headers: resolved.headers,
      userAgent: `batch-llm/${packageVersion()}`,
      maxResponseBytes: resolved.maxResponseBytes,
      // Each item has at most one request open. The balancer's per-thread counts lag the outcomes
      // in transit, so a thread may briefly hold more than its share: never make its items queue
      // for a socket.
      maxSockets: resolved.concurrency,
      model: resolved.model ?? null,
      taskFile: resolved.task ?? null,
      groupBy: resolved.groupBy ?? null,
      attemptTimeoutMs: resolved.attemptTimeoutMs,
      itemDeadlineMs: resolved.itemDeadlineMs ?? null,
      runDeadline: resolved.deadlineMs === undefined ? null : startedAt + resolved.deadlineMs,
      maxAttempts: resolved.maxAttempts,
      maxRateLimitRetries: resolved.maxRateLimitRetries,
      backoffBaseMs: resolved.backoffBaseMs,
      backoffMaxMs: resolved.backoffMaxMs,
      cooldownBaseMs: resolved.cooldownBaseMs,
      cooldownMaxMs: resolved.cooldownMaxMs,
      rampJitterMs: resolved.rampJitterMs,
      rateHeadroom: resolved.rateHeadroom,
      defaultAnswerTokens: resolved.defaultAnswerTokens,
      learnRateLimits: resolved.learnRateLimits,
      events: observer.emit !== undefined,
      cache: resolved.cache === undefined ? null : { directory: resolved.cache, mode: resolved.cacheMode, endpoint: endpointIdentity(resolved.baseURL) },
    };
    const balancer = new ThreadBalancer();
    const pool = createPool(settings, resolved.threads, resolved.concurrency, balancer, resolved.threadMemoryMb);
    const closeEvents = emit ? serveEventChannels(pool, emit) : () => {};
    const keeper = new CooldownKeeper(block, { rampStart: resolved.rampStart, ...(emit ? { onEvent: emit } : {}) });
    const dispatcher = new Dispatcher(pool, resolved.threads, balancer);
    const coalesce = coalescer(settings);
    const notStarted = (item: BatchItem): ItemOutcome =>
      failedOutcome(item.custom_id, 'aborted', `not started: ${control.stopped?.reason ?? 'the run was stopped'}`);

    async function dispatch(item: BatchItem): Promise<ItemOutcome> {
      return coalesce(item, dispatchNow);
    }

    async function dispatchNow(item: BatchItem): Promise<ItemOutcome> {
      if (control.stopped !== null) return notStarted(item);
      const reservation = await spendCap.reserve(item, () => control.stopped !== null);
      if (reservation === null) return notStarted(item);
      if ('stop' in reservation) {
        control.stop('drain', reservation.stop);
        spendCap.wakeAll();
        return notStarted(item);
      }
      const outcome = await runAdmitted(item);
      spendCap.settle(reservation, outcome.stats.usage);
      return outcome;
    }

    async function runAdmitted(item: BatchItem): Promise<ItemOutcome> {
      for (let crashes = 1; ; crashes += 1) {
        try {
          return await dispatcher.run(item);
        } catch (error) {
          // The run is over (its consumer left early): nothing may start any more.
          if (error instanceof DispatcherClosed) return failedOutcome(item.custom_id, 'aborted', error.message);
          // The item's thread died (its own code or another item's took it down). Give the dead
          // thread's permits back, then run the item again on a live thread, counting an attempt.
          reclaimDeadThreads(block, liveThreadIds(pool));
          const why = error instanceof Error ? error.message : String(error);
          const rerun = crashes < resolved.maxAttempts && control.stopped === null;
          emit?.({ type: 'thread-died', custom_id: item.custom_id, crashes, rerun, message: redact(why, resolved.apiKey) });
          if (!rerun) {
            return failedOutcome(item.custom_id, 'worker_crash', redact(`its worker thread died ${crashes} time(s): ${why}`, resolved.apiKey), null, { attempts: crashes });
          }
        }
      }
    }

    try {
      for await (const outcome of mapConcurrent(resolved.items, resolved.concurrency, dispatch)) {
        const stopped = control.stopped;
        if (!outcome.ok && outcome.error.code === RUN_STOPPED && stopped !== null) {
          outcome.error.message = `the run was stopped: ${stopped.reason}`;
        }
        summary.add(outcome);
        control.observe(outcome);
        yield toResult<Value>(outcome);
      }
    } finally {
      summary.setStopped(control.stopped);
      control.dispose();
      await keeper.stop();
      dispatcher.close();
      await pool.destroy();
      closeEvents();
      observer.close();
      summary.setSeries(observer.sampler.summary());
    }
  }

  return Object.assign(run(), {
    summary: () => summary.build(),
    live: () => readLive(block, summary.counts()),
    stop: (mode: AbortMode, reason = 'stopped by the caller') => control.stop(mode, reason),
  });
}

/** Runs the whole batch and resolves with every result (in completion order) and the summary. */
export async function runBatch<Value = unknown>(options: BatchOptions): Promise<{ summary: BatchSummary; results: ItemResult<Value>[] }> {
  const stream = streamBatch<Value>(options);
  const results: ItemResult<Value>[] = [];
  for await (const result of stream) results.push(result);
  return { summary: stream.summary(), results };
}
