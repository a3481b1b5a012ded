// The library's entry points: streamBatch (results as they finish, bounded memory) and runBatch
// (everything at once, for small batches and tests).

import { createControlBlock, type ControlBlock } from '../control/control-block.js';
import { CooldownKeeper } from '../control/cooldown-keeper.js';
import { RUN_STOPPED } from '../model/errors.js';
import { toResult, type ItemResult } from '../model/item-result.js';
import { serveEventChannels } from '../pool/event-channel.js';
import { readLive, type LiveStats } from './live-stats.js';
import { resolveOptions, type BatchOptions } from './options.js';
import { Dispatcher } from '../pool/dispatcher.js';
import { failedOutcome, type BatchItem, type ItemOutcome } from '../model/outcome.js';
import { createPool, type ItemPool } from '../pool/pool.js';
import type { PrestartedPool } from '../pool/prestart.js';
import { RateBudget } from '../control/rate-budget.js';
import { redactAll, runSecrets } from '../model/redact.js';
import { RunControl } from './run-control.js';
import { SpendCap, type SharedSpend } from './spend-cap.js';
import { mapConcurrent } from './admission.js';
import type { AbortMode } from '../control/stop.js';
import { SummaryBuilder, type BatchSummary } from './summary.js';
import { endpointOfUrl } from '../model/endpoint.js';
import { loadTask } from '../task/task-loader.js';
import { ThreadBalancer } from '../pool/thread-balancer.js';
import { poolShape, threadsFor } from './thread-count.js';
import { reclaimDeadThreads } from '../control/thread-slots.js';
import { observeRun } from './run-observer.js';
import { coalescer } from './coalesce-items.js';
import { CrashRetry } from './crash-retry.js';
import { workerSettings } from './worker-settings.js';

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

/** For the layers above the run (distributed/): not part of the public options. */
export interface RunHooks {
  /** Called once, at once, with the run's control block (e.g. to mirror a cluster-wide cooldown into it). */
  onControlBlock?: (block: ControlBlock) => void;
  /** The run's spend room when several processes share its caps (spend-cap.ts). */
  sharedSpend?: SharedSpend;
  /**
   * Outcomes made in the worker threads carry their results-file line (`line`, io/output.ts
   * readyLine) and leave out their body and value, which only that line needs (the CLI).
   */
  readyLines?: boolean;
  /**
   * Threads started before the run (pool/prestart.ts, the CLI's), of the run's shape: the run
   * gives them its settings instead of starting its own, and closes them when it ends. Whoever
   * started them closes them too (close is idempotent): a run that fails before it adopts them,
   * or is never iterated, leaves them open.
   */
  threads?: PrestartedPool | undefined;
}

/** Results in completion order. At most `concurrency` items are held in memory at any time. */
export function streamBatch<Value = unknown>(options: BatchOptions, hooks: RunHooks = {}): BatchStream<Value> {
  const resolved = resolveOptions(options);
  const runDeadline = resolved.deadlineMs === undefined ? null : Date.now() + resolved.deadlineMs;
  // Room for every thread and, should some die, their replacements. Without `threads` the count
  // is known only once the task is loaded (below); hooks get the block at once, so it is made now
  // for the most threads the default can give.
  const block = createControlBlock(resolved.concurrency, (resolved.threads ?? threadsFor(true)) * 2 + 8);
  hooks.onControlBlock?.(block);
  const summary = new SummaryBuilder(block, resolved.prices);
  const budget = new RateBudget(block, resolved.rateHeadroom);
  budget.configure('requests', resolved.rpm);
  budget.configure('tokens', resolved.tpm);
  const spendCap = new SpendCap({
    maxTokens: resolved.maxTokens ?? null,
    maxCost: resolved.maxCost ?? null,
    prices: resolved.prices,
    defaultAnswerTokens: resolved.defaultAnswerTokens,
    shared: hooks.sharedSpend,
  });
  summary.reportSpendCap(() => spendCap.report());
  const control = new RunControl(block, {
    failFast: new Set(resolved.failFast),
    abortMode: resolved.abortMode,
    deadlineAt: runDeadline,
    signal: resolved.signal,
  });

  async function* run(): AsyncGenerator<ItemResult<Value>, void, undefined> {
    // Load the task here first: a broken task file fails the run at once, not every item.
    const task = resolved.task === undefined ? undefined : await loadTask(resolved.task);
    const shape = poolShape(resolved, task);
    const { threads } = shape;
    const observer = observeRun({ ...resolved, threads }, () => readLive(block, summary.counts()));
    const { emit } = observer;
    control.onStop = emit && ((mode, reason) => emit({ type: 'run-stopping', mode, reason }));
    const settings = workerSettings(resolved, block, runDeadline, emit !== undefined, hooks.readyLines ?? false);
    const { secrets } = settings;
    const prestarted = hooks.threads;
    const balancer = prestarted?.balancer ?? new ThreadBalancer();
    const pool = prestarted ? prestarted.adopt(settings, shape) : createPool({ settings }, threads, shape.concurrency, balancer, shape.memoryMb);
    const reclaim = () => reclaimDeadThreads(block, liveThreadIds(pool));
    // Piscina reports a thread that died with no task as an 'error' event (with no listener,
    // Node would throw it on the main thread and end the process). Nothing of ours was on it but
    // its permits, if any; a new thread takes its place.
    const onThreadDied = (error: unknown): void => {
      reclaim();
      const message = redactAll(error instanceof Error ? error.message : String(error), secrets);
      emit?.({ type: 'thread-died', custom_id: null, crashes: 1, rerun: false, message });
    };
    pool.on('error', onThreadDied);
    const closeEvents = emit ? serveEventChannels(pool, emit) : () => {};
    const keeper = new CooldownKeeper(block, {
      rampStart: resolved.rampStart,
      defaultPauseMs: resolved.cooldownBaseMs,
      outagePatienceMs: resolved.outagePatienceMs,
      // A dead endpoint stops the run resumably: the items not finished are run by a resume.
      onOutagePatienceOut: (reason) => control.stop('drain', reason),
      ...(emit ? { onEvent: emit } : {}),
    });
    const dispatcher = new Dispatcher(pool, threads, balancer);
    const crashRetry = new CrashRetry({
      maxDeaths: resolved.maxAttempts,
      send: (item) => dispatcher.run(item),
      // Give the dead thread's permits back before its items run again.
      onDeath: (item, deaths, rerun, why) => {
        reclaim();
        emit?.({ type: 'thread-died', custom_id: item.custom_id, crashes: deaths, rerun, message: redactAll(why, secrets) });
      },
      stopped: () => control.stopped !== null,
      secrets,
    });
    const coalesce = coalescer(settings);
    const notStarted = (item: BatchItem): ItemOutcome =>
      failedOutcome(item.custom_id, 'aborted', `not started: ${control.stopped?.reason ?? 'the run was stopped'}`);

    function dispatchNow(item: BatchItem): Promise<ItemOutcome> {
      if (control.stopped !== null) return Promise.resolve(notStarted(item));
      // Without a spend cap there is nothing to reserve or settle: no async step of its own (this
      // runs for every item on the main thread, which binds a fast run).
      return spendCap.active ? dispatchWithinCap(item) : crashRetry.run(item);
    }

    async function dispatchWithinCap(item: BatchItem): Promise<ItemOutcome> {
      const reservation = await spendCap.reserve(item, () => control.stopped !== null);
      if (reservation === null) return notStarted(item);
      if ('stop' in reservation) {
        control.stop('drain', reservation.stop);
        spendCap.wakeAll();
        return notStarted(item);
      }
      const outcome = await crashRetry.run(item);
      spendCap.settle(reservation, outcome.stats.usage);
      return outcome;
    }

    try {
      for await (const outcome of mapConcurrent(resolved.items, resolved.concurrency, (item) => coalesce(item, dispatchNow).then((outcome) => withEndpoint(item, outcome)))) {
        const stopped = control.stopped;
        if (!outcome.ok && outcome.error.code === RUN_STOPPED && stopped !== null) {
          // The worker knows only that the run stopped; what it was doing then stays in the message.
          outcome.error.message = outcome.error.message.replace(/^the run was stopped/, `the run was stopped: ${stopped.reason}`);
        }
        summary.add(outcome);
        control.observe(outcome);
        yield toResult<Value>(outcome);
      }
    } finally {
      control.settle();
      summary.setStopped(control.stopped);
      control.dispose();
      await keeper.stop();
      dispatcher.close();
      await (prestarted ? prestarted.close() : pool.destroy());
      pool.off('error', onThreadDied);
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

/** The outcome, marked with its item's endpoint when that is not chat (for the summary's by_endpoint). */
function withEndpoint(item: BatchItem, outcome: ItemOutcome): ItemOutcome {
  const endpoint = endpointOfUrl(item.url);
  if (endpoint !== null && endpoint !== 'chat') outcome.stats.endpoint = endpoint;
  return outcome;
}

/** Runs the whole batch and resolves with every result (in completion order) and the summary. */
export async function runBatch<Value = unknown>(options: BatchOptions): Promise<{ summary: BatchSummary; results: ItemResult<Value>[] }> {
  const stream = streamBatch<Value>(options);
  const results: ItemResult<Value>[] = [];
  for await (const result of stream) results.push(result);
  return { summary: stream.summary(), results };
}
