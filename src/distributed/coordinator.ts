// The coordinator of a distributed run: it puts the input's items into BullMQ chunk jobs (with
// backpressure: at most `maxQueuedChunks` chunks' worth of items unfinished), reads the final
// outcomes back from the run's results stream, and hands them on as a BatchStream — so the CLI
// writes the results file exactly as on one machine (that file stays the checkpoint), and
// --resume works as it does there. It also works chunks itself unless told not to.
//
// Resume: the run's Redis state outlives a dead coordinator. A new one with the same run id
// empties the queue of waiting chunks and enqueues every item the results file does not have,
// except those of chunks a worker is working (they stay with it: no item is sent twice);
// lines some worker has committed meanwhile are skipped by the workers (`pending`), and their
// outcomes are still in the results stream, which the new coordinator reads from its start.
// The stream is trimmed only up to entries already handed on (written), so nothing is lost.

import { createControlBlock, I32, I64 } from '../control/control-block.js';
import type { AbortMode } from '../control/stop.js';
import { DistributedRunError } from '../model/errors.js';
import { toResult, type ItemResult } from '../model/item-result.js';
import { failedOutcome, type BatchItem, type ItemOutcome } from '../model/outcome.js';
import { costOf } from '../model/cost.js';
import { addUsage, emptyUsage } from '../model/usage.js';
import { readLive } from '../run/live-stats.js';
import { resolveOptions, type BatchOptions } from '../run/options.js';
import { intervalFor } from '../control/rate-budget.js';
import type { BatchStream } from '../run/run-batch.js';
import { RunControl } from '../run/run-control.js';
import { SummaryBuilder } from '../run/summary.js';
import { loadDistributedLibraries } from './libraries.js';
import { connect, reachRedis } from './redis-connection.js';
import { redisOutageFor } from './redis-outage.js';
import { QUEUE_NAME, runKeys } from './run-keys.js';
import { markDone, readMeta, runState, sharedSettings, writeMeta, type RunMeta } from './run-meta.js';
import { runWorker, type WorkerReport } from './run-worker.js';
import { RunScripts } from './scripts.js';
import { closeQueueObject } from './queue-close.js';
import type { ChunkJob } from './wire.js';

export interface CoordinatorOptions {
  /** redis://, rediss:// or unix:// URL. */
  redis: string;
  /** The run's name in Redis; workers join with it. */
  runId: string;
  /** Input lines per chunk job. Minimum: 1. @default 256 */
  chunkSize?: number | undefined;
  /** Also work chunks in this process. @default true */
  localWork?: boolean | undefined;
  /** Chunks' worth of items enqueued and not yet finished, at most. Minimum: 1. @default 16 */
  maxQueuedChunks?: number | undefined;
  /** The input's SHA-256: a run id that names another input is refused. @default none checked */
  inputSha256?: string | undefined;
  /** The task file's SHA-256, for workers to check theirs against. @default none checked */
  taskSha256?: string | null | undefined;
  /**
   * The input line of each item (the commit bitmap's index; stable across resumes).
   * @default the item's position in `items`, from 1 (so a resumed run must give the same items in the same order)
   */
  lineOf?: ((customId: string) => number | undefined) | undefined;
  /** Messages for people. */
  log?: ((message: string) => void) | undefined;
}

export const DEFAULT_CHUNK_SIZE = 256;

/** The stop's reason when Redis lost the run's state (a restart without persistence, a flush). */
const RUN_LOST = "Redis lost the run's state (it came back empty: restarted without persistence, or flushed)";

/** Whether stream entry id `a` ("<ms>-<seq>") comes after `b`. */
function streamIdAfter(a: string, b: string): boolean {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs > bMs || (aMs === bMs && aSeq > bSeq);
}

/** An outcome as it came, with its results-stream id (null for one made here). */
interface Arrived {
  id: string | null;
  outcome: ItemOutcome;
}

/** Results as workers anywhere finish them; the same stream as streamBatch's. */
export function coordinateBatch<Value = unknown>(options: BatchOptions, coordinator: CoordinatorOptions): BatchStream<Value> {
  const resolved = resolveOptions(options);
  const log = coordinator.log ?? (() => {});
  const chunkSize = coordinator.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const maxUnfinished = chunkSize * (coordinator.maxQueuedChunks ?? 16);
  // A block of our own for the summary's counters and the live view; no thread uses it.
  const block = createControlBlock(resolved.concurrency);
  const summary = new SummaryBuilder(block, resolved.prices);
  const control = new RunControl(block, {
    failFast: new Set(resolved.failFast),
    abortMode: resolved.abortMode,
    deadlineAt: resolved.deadlineMs === undefined ? null : Date.now() + resolved.deadlineMs,
    signal: resolved.signal,
  });
  // Spend caps are the run's: reserved in every process from one room in Redis (spend-lease.ts).
  const caps = { maxTokens: resolved.maxTokens ?? null, maxCost: resolved.maxCost ?? null };
  const spent = emptyUsage();
  if (caps.maxTokens !== null || caps.maxCost !== null) {
    summary.reportSpendCap(() => {
      const cost = resolved.prices === undefined ? null : costOf(spent, resolved.prices);
      return {
        max_tokens: caps.maxTokens,
        max_cost: caps.maxCost,
        spent_tokens: spent.total,
        spent_cost: cost,
        over_tokens: caps.maxTokens === null ? 0 : Math.max(0, spent.total - caps.maxTokens),
        over_cost: caps.maxCost === null || cost === null ? 0 : Math.max(0, cost - caps.maxCost),
      };
    });
  }
  const keys = runKeys(coordinator.runId);
  const positions = new Map<string, number>();
  let read = 0;
  const lineOf = coordinator.lineOf ?? ((customId: string) => positions.get(customId));

  async function* run(): AsyncGenerator<ItemResult<Value>, void, undefined> {
    const { Job, Queue, QueueEvents } = await loadDistributedLibraries();
    await reachRedis(coordinator.redis);
    const outage = redisOutageFor(log);
    const redis = connect(coordinator.redis, 'batch-llm-coordinator', outage);
    const reader = connect(coordinator.redis, 'batch-llm-coordinator-results', outage);
    const queueConnection = connect(coordinator.redis, 'batch-llm-coordinator-queue', outage);
    const scripts = new RunScripts(redis, keys);
    const queue = new Queue<ChunkJob>(QUEUE_NAME, { connection: queueConnection, prefix: keys.queuePrefix });
    // BullMQ does not close a connection it was given: left open, it kept the process alive
    // until the CLI's exit timer ended it, 2 s after the run.
    const eventsConnection = connect(coordinator.redis, 'batch-llm-coordinator-events', outage);
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix: keys.queuePrefix });
    // Without a listener BullMQ prints every error it re-emits, a lost connection's included.
    outage.watchQueue(queue, 'queue');
    outage.watchQueue(events, 'queue events');
    let localWorker: Promise<WorkerReport> | null = null;
    const stopLocal = new AbortController();
    try {
      const meta: RunMeta = {
        runId: coordinator.runId,
        inputSha256: coordinator.inputSha256 ?? 'unchecked',
        taskSha256: coordinator.taskSha256 ?? null,
        chunkSize,
        settings: sharedSettings(options, resolved.baseURL),
      };
      /** Input lines of chunks being worked when a resumed run started: not enqueued again. */
      const held = new Set<number>();
      const existing = await readMeta(redis, keys);
      if (existing !== null) {
        if (existing.meta.inputSha256 !== meta.inputSha256) {
          throw new DistributedRunError(`run "${coordinator.runId}" in Redis is of another input (sha256 ${existing.meta.inputSha256.slice(0, 12)}…): choose another --run-id`);
        }
        // Resuming: the waiting chunks are enqueued again from the input (what the file lacks).
        // The chunks some worker is working stay with it (or, should it be dead, go to another
        // by the stalled check): enqueued again, their items in flight would be sent twice and
        // paid twice, the second answer refused. Drained first, then read: with nothing
        // waiting, no chunk can become active between the two unseen (a stalled one goes back
        // to waiting, still held, and a worker takes it from there).
        await queue.drain();
        for (const job of await queue.getJobs(['active'])) for (const line of job.data.lines) held.add(line);
        log(`resuming run ${coordinator.runId}`);
      }
      // The caps count this invocation's spend, as on one machine (a resume starts from 0);
      // what live workers hold stays held. Set before the meta, which workers wait for.
      await scripts.setSpendCaps(caps.maxTokens, caps.maxCost);
      await writeMeta(redis, keys, meta);
      if (resolved.rpm !== undefined) await scripts.tighten('requests', intervalFor(resolved.rpm, resolved.rateHeadroom));
      if (resolved.tpm !== undefined) await scripts.tighten('tokens', intervalFor(resolved.tpm, resolved.rateHeadroom));

      /** Items enqueued whose outcome has not come yet. */
      const awaited = new Map<string, BatchItem>();
      /** Outcomes that came before their item was read (a resumed run's earlier work). */
      const early = new Map<string, Arrived>();
      const ready: Arrived[] = [];
      /** Stream ids read and not yet handed on, in read (= id) order: the stream is trimmed below the first. */
      const unwritten = new Set<string>();
      let wake: (() => void) | null = null;
      const poke = (): void => {
        wake?.();
        wake = null;
      };
      let inputDone = false;
      let failure: unknown = null;

      // The results stream's newest entry as this coordinator starts: an `aborted` outcome up to
      // it is of an earlier stop, whose coordinator wrote it already (the stream is trimmed only
      // up to what was written, so a stopped run's last entries are still there at a resume).
      const [newest] = await reader.xrevrange(keys.results, '+', '-', 'COUNT', 1);
      const startedAfter = newest?.[0] ?? '0-0';

      const take = (arrived: Arrived): void => {
        const { outcome } = arrived;
        const aborted = !outcome.ok && outcome.error.category === 'aborted';
        // An abort of an earlier stop (a resume runs the item again), or of an item no longer
        // awaited (a second one of this stop): nothing to write. Taken, an earlier stop's abort
        // would end the item in this run unsent — and tell this run that it was stopped.
        if (aborted && (!awaited.has(outcome.custom_id) || (arrived.id !== null && !streamIdAfter(arrived.id, startedAfter)))) return;
        if (arrived.id !== null) unwritten.add(arrived.id);
        positions.delete(outcome.custom_id);
        if (awaited.delete(outcome.custom_id)) ready.push(arrived);
        else early.set(outcome.custom_id, arrived);
        poke();
      };

      // Outcomes from the results stream, oldest first; trimmed behind what was handed on.
      let reading = true;
      const readResults = (async () => {
        let last = '0';
        while (reading) {
          // Entries below the oldest one not yet written are in the results file: drop them.
          const keep = unwritten.values().next().value ?? last;
          if (keep !== '0') await reader.xtrim(keys.results, 'MINID', keep);
          const reply = await reader.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', keys.results, last);
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              last = id;
              const text = fields[3];
              if (text !== undefined) take({ id, outcome: JSON.parse(text) });
            }
          }
        }
      })().catch((error: unknown) => {
        failure = error;
        poke();
      });

      // A chunk that failed (stalled too often: its workers died) gets worker_crash lines for
      // its unfinished items, through the same commit, so a late finisher is refused.
      events.on('failed', ({ jobId, failedReason }) => {
        void (async () => {
          const job = await Job.fromId<ChunkJob>(queue, jobId);
          if (job === undefined) return;
          const todo = new Set(await scripts.pending(job.data.lines));
          const crashes = job.data.lines.flatMap((line, i) => {
            const text = job.data.items[i];
            if (!todo.has(line) || text === undefined) return [];
            const item: BatchItem = JSON.parse(text);
            return [{ line, outcome: JSON.stringify(failedOutcome(item.custom_id, 'worker_crash', `its chunk failed: ${failedReason}`)) }];
          });
          await scripts.commit(crashes);
        })().catch((error: unknown) => log(`cannot settle failed chunk ${jobId}: ${String(error)}`));
      });

      const enqueue = (async () => {
        let lines: number[] = [];
        let items: string[] = [];
        let chunkNo = 0;
        const flush = async (): Promise<void> => {
          if (lines.length === 0) return;
          await queue.add('chunk', { lines, items }, { jobId: `${Date.now().toString(36)}-${chunkNo++}` });
          lines = [];
          items = [];
        };
        for await (const item of resolved.items) {
          const earlier = early.get(item.custom_id);
          if (earlier !== undefined) {
            early.delete(item.custom_id);
            ready.push(earlier);
            poke();
            continue;
          }
          if (control.stopped !== null) {
            ready.push({ id: null, outcome: failedOutcome(item.custom_id, 'aborted', `not started: ${control.stopped?.reason ?? 'the run was stopped'}`) });
            poke();
            continue;
          }
          read += 1;
          if (coordinator.lineOf === undefined) positions.set(item.custom_id, read);
          const line = lineOf(item.custom_id);
          if (line === undefined) throw new DistributedRunError(`item ${item.custom_id} has no input line number`);
          awaited.set(item.custom_id, item);
          if (held.has(line)) continue;
          lines.push(line);
          items.push(JSON.stringify(item));
          if (lines.length >= chunkSize) await flush();
          // Backpressure: Redis holds at most this many unfinished items of ours.
          while (awaited.size >= maxUnfinished && control.stopped === null) await new Promise<void>((resolve) => setTimeout(resolve, 20));
        }
        await flush();
      })().then(
        () => {
          inputDone = true;
          poke();
        },
        (error: unknown) => {
          failure = error;
          poke();
        },
      );

      if (coordinator.localWork ?? true) {
        localWorker = runWorker({
          redis: coordinator.redis,
          runId: coordinator.runId,
          threads: resolved.threads,
          concurrency: resolved.concurrency,
          apiKey: resolved.apiKey,
          signal: stopLocal.signal,
          log,
        });
        localWorker.catch((error: unknown) => log(`local worker: ${error instanceof Error ? error.message : String(error)}`));
      }

      let settledStop = false;
      let nextStopCheck = 0;
      for (;;) {
        const next = ready.shift();
        if (next !== undefined) {
          const { outcome } = next;
          summary.add(outcome);
          addUsage(spent, outcome.stats.usage);
          Atomics.add(block.i64, I64.REQUESTS, BigInt(outcome.stats.attempts));
          Atomics.add(block.i64, I64.RATE_LIMITED, BigInt(outcome.stats.rateLimited));
          control.observe(outcome);
          yield toResult<Value>(outcome);
          // The consumer asked for the next one: this one is written.
          if (next.id !== null) unwritten.delete(next.id);
          continue;
        }
        if (failure !== null) throw failure;
        if (inputDone) {
          // Outcomes of items never read are of lines already in the results file (a resume).
          for (const { id } of early.values()) if (id !== null) unwritten.delete(id);
          early.clear();
          if (awaited.size === 0) {
            // The workers may have stopped the run (a spend cap) and answered every item before
            // the periodic check below saw it: look once more, or the run would end as failed
            // items (exit 1) instead of stopped and resumable (exit 3).
            if (control.stopped === null) {
              const { stop } = await runState(redis, keys);
              if (stop !== null) control.stop('drain', stop);
            }
            break;
          }
        }
        // A worker's engine found that nothing fits the run's spend cap any more: stop the run.
        // Or Redis lost the run (it came back empty): the items of the chunks it held would be
        // awaited for ever. The run stops at once, its unfinished items `aborted`, and a resume
        // enqueues them again — outcomes committed since the loss are read back then.
        if (control.stopped === null && Date.now() >= nextStopCheck) {
          nextStopCheck = Date.now() + 250;
          const { stop, lost } = await runState(redis, keys);
          if (lost) {
            log(`redis: run ${coordinator.runId} is gone from Redis; stopping (run again with --resume to finish)`);
            control.stop('cancel', RUN_LOST);
          } else if (stop !== null) control.stop('drain', stop);
        }
        if (control.stopped !== null && !settledStop) {
          // Stopped: no chunk waits any more; what no worker has started gets `aborted` lines
          // (committed, so that a worker finishing one anyway is refused).
          settledStop = true;
          await stopWaiting(awaited, control.stopped.mode);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 500);
        });
      }
      reading = false;
      await readResults;
      await enqueue;
      const cooldowns = Number((await redis.hget(keys.cooldown, 'opened')) ?? 0);
      Atomics.store(block.i32, I32.COOLDOWNS, cooldowns);
      await markDone(redis, keys);
    } finally {
      summary.setStopped(control.stopped);
      control.dispose();
      stopLocal.abort();
      await localWorker?.catch(() => null);
      await closeQueueObject(events, 'queue events', log);
      await closeQueueObject(queue, 'queue', log);
      redis.disconnect();
      reader.disconnect();
      queueConnection.disconnect();
      eventsConnection.disconnect();
    }

    async function stopWaiting(awaited: Map<string, BatchItem>, mode: AbortMode): Promise<void> {
      await queue.drain();
      if (mode === 'drain') {
        // Chunks being worked finish; wait for them (bounded: a frozen worker must not hold us).
        const until = Date.now() + 60_000;
        while ((await queue.getActiveCount()) > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const aborted = [...awaited.values()].flatMap((item) => {
        const line = lineOf(item.custom_id);
        return line === undefined ? [] : [{ line, final: false, outcome: JSON.stringify(failedOutcome(item.custom_id, 'aborted', `the run was stopped: ${control.stopped?.reason ?? ''}`)) }];
      });
      for (let i = 0; i < aborted.length; i += 1000) await scripts.commit(aborted.slice(i, i + 1000));
    }
  }

  return Object.assign(run(), {
    summary: () => summary.build(),
    live: () => readLive(block, summary.counts()),
    stop: (mode: AbortMode, reason = 'stopped by the caller') => control.stop(mode, reason),
  });
}
