// A process that works a distributed run: a BullMQ worker takes chunk jobs, and their items go
// through one long-lived engine (streamBatch, with its thread pool and control block) whose
// cooldown is mirrored to and from Redis (cooldown-mirror.ts) and whose RPM/TPM budgets are
// slices leased from the run's (budget-leaser.ts). Each final outcome is committed
// through the bitmap script (exactly one per input line, even when a paused worker and its
// replacement both finish a chunk) and so reaches the coordinator's results stream.
//
// Recovery is BullMQ's: a worker that dies stops renewing its chunk's lock; after `lockDuration`
// the stalled-job check (every `stalledInterval`) gives the chunk to another worker, which skips
// the lines already committed (`pending`). A chunk stalled more than `maxStalledCount` times
// fails, and the coordinator gives its unfinished lines `worker_crash` outcomes.

import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Job } from 'bullmq';
import { DistributedRunError } from '../model/errors.js';
import type { BatchItem } from '../model/outcome.js';
import { streamBatch } from '../run/run-batch.js';
import type { ControlBlock } from '../control/control-block.js';
import { BudgetLeaser } from './budget-leaser.js';
import { CooldownMirror } from './cooldown-mirror.js';
import { loadDistributedLibraries } from './libraries.js';
import { connect, reachRedis, redactRedisUrl } from './redis-connection.js';
import { redisOutageFor } from './redis-outage.js';
import { QUEUE_NAME, runKeys } from './run-keys.js';
import { isDone, readMeta, requestStop, type RunMeta } from './run-meta.js';
import { SpendLease } from './spend-lease.js';
import { RunScripts, type ScriptName } from './scripts.js';
import type { Bucket } from '../control/rate-budget.js';
import { parseItem, toOutcome, type ChunkJob } from './wire.js';
import { closeWorker } from './queue-close.js';

/** How long a dead worker keeps its chunk: its lock lapses, then the next stalled check frees it. */
export const LOCK_DURATION_MS = 6_000;
export const STALLED_INTERVAL_MS = 3_000;
/** A chunk whose worker died (or froze) this many times fails: its unfinished lines get worker_crash. */
export const MAX_STALLED_COUNT = 3;
/**
 * How long a finished outcome may wait for others to share its commit call. Longer means fewer
 * calls, and more answers lost (to be paid again) when the process is killed before the call.
 */
const COMMIT_WINDOW_MS = 50;
const COMMIT_BATCH_MAX = 500;

export interface WorkerOptions {
  /** redis://, rediss:// or unix:// URL of the run's Redis. */
  redis: string;
  runId: string;
  /** Worker threads of this process. @default as streamBatch's `threads` (run/thread-count.ts) */
  threads?: number | undefined;
  /** Items in progress at once in this process. @default the run's concurrency */
  concurrency?: number | undefined;
  /** This process's API key. @default process.env.OPENAI_API_KEY */
  apiKey?: string | undefined;
  /** Stops the worker: it takes no new chunk, finishes those it has, then resolves. */
  signal?: AbortSignal | undefined;
  /** How long to wait for the run to appear in Redis, in ms. @default 60000 */
  joinTimeoutMs?: number | undefined;
  /** Messages for people (joined, left). */
  log?: ((message: string) => void) | undefined;
}

export interface WorkerReport {
  /** Final outcomes this process committed. */
  committed: number;
  /** Outcomes it finished but another process had committed first (refused, not written). */
  suppressed: number;
  /** Redis script calls of ours (BullMQ's own calls not counted). */
  scriptCalls: number;
  /** The same, per script. */
  scriptCallsOf: Record<ScriptName, number>;
  /** Budget units leased per bucket, and those that lapsed unspent. */
  leased: Record<Bucket, { leased: number; lapsed: number; expired: number }>;
}

/** Items handed to the engine as chunks arrive; ends when the worker leaves. */
class ItemFeed implements AsyncIterable<BatchItem> {
  #items: BatchItem[] = [];
  #wake: (() => void) | null = null;
  #ended = false;

  push(item: BatchItem): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<BatchItem, void, undefined> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }
}

async function waitForMeta(redis: ReturnType<typeof connect>, runId: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<RunMeta> {
  const keys = runKeys(runId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await readMeta(redis, keys);
    if (found !== null) return found.meta;
    if (Date.now() > deadline || signal?.aborted === true) throw new DistributedRunError(`no run "${runId}" in Redis after ${timeoutMs} ms: start its coordinator (batch-llm run … --redis … --run-id ${runId})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Resolves once the coordinator says the run is done (a message, or the meta key polled each second), or on `signal`. */
async function untilRunEnds(redis: ReturnType<typeof connect>, subscriber: ReturnType<typeof connect>, runId: string, signal: AbortSignal | undefined): Promise<void> {
  const keys = runKeys(runId);
  let poll: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve) => {
      subscriber.on('message', (channel: string, message: string) => {
        if (channel === keys.channel && message === 'done') resolve();
      });
      signal?.addEventListener('abort', () => resolve(), { once: true });
      const check = (): void => {
        void isDone(redis, keys).then((done) => done && resolve(), () => {});
      };
      poll = setInterval(check, 1000);
      check();
    });
  } finally {
    clearInterval(poll);
  }
}

/** Joins run `runId` and works its chunks until the run is done (or `signal` stops it). */
export async function runWorker(options: WorkerOptions): Promise<WorkerReport> {
  const log = options.log ?? (() => {});
  const keys = runKeys(options.runId);
  const { Worker } = await loadDistributedLibraries();
  await reachRedis(options.redis);
  const outage = redisOutageFor(log);
  const redis = connect(options.redis, 'batch-llm-worker', outage);
  const subscriber = connect(options.redis, 'batch-llm-worker-events', outage);
  const bullConnection = connect(options.redis, 'batch-llm-worker-queue', outage);
  const scripts = new RunScripts(redis, keys);
  const report: WorkerReport = { committed: 0, suppressed: 0, scriptCalls: 0, scriptCallsOf: scripts.callsOf, leased: { requests: { leased: 0, lapsed: 0, expired: 0 }, tokens: { leased: 0, lapsed: 0, expired: 0 } } };
  try {
    const meta = await waitForMeta(redis, options.runId, options.joinTimeoutMs ?? 60_000, options.signal);
    const { settings } = meta;
    if (settings.task !== undefined) {
      const sha = createHash('sha256').update(await readFile(settings.task)).digest('hex');
      if (sha !== meta.taskSha256) throw new DistributedRunError(`task file ${settings.task} here differs from the run's (sha256 ${sha.slice(0, 12)}… here, ${String(meta.taskSha256).slice(0, 12)}… in the run): use the same file on every machine`);
    }

    // The run's spend caps, if any: every item's reservation comes out of one room in Redis.
    const caps = await scripts.spendState();
    const spendLease =
      caps.maxTokens === null && caps.maxCost === null
        ? null
        : new SpendLease(scripts, `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, caps, (error) => log(`redis spend: ${error instanceof Error ? error.message : String(error)}`));

    const feed = new ItemFeed();
    /** Items in the engine: their input line and who waits for their commit. */
    const inEngine = new Map<string, { line: number; done: Promise<void>; resolve: () => void }>();
    let mirror: CooldownMirror | null = null;
    let block: ControlBlock | null = null;
    const stream = streamBatch(
      {
        ...settings,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        apiKey: options.apiKey ?? process.env['OPENAI_API_KEY'],
        items: feed,
        onEvent: (event) => {
          if (event.type === 'rate-limited') mirror?.report(event.globalGen, event.hintMs);
          // Nothing fits the run's spend cap here any more, and nothing is in flight anywhere:
          // the coordinator stops the run (this engine has stopped already).
          if (event.type === 'run-stopping' && spendLease !== null && event.reason === spendLease.stopReason) {
            void requestStop(redis, keys, event.reason).catch((error: unknown) => log(`redis: ${String(error)}`));
          }
        },
      },
      { onControlBlock: (created) => (block = created), ...(spendLease === null ? {} : { sharedSpend: spendLease }) },
    );
    if (block === null) throw new Error('the engine did not hand over its control block');
    mirror = new CooldownMirror(block, scripts, subscriber, keys, { baseMs: settings.cooldownBaseMs ?? 1000, maxMs: settings.cooldownMaxMs ?? 60_000 }, {
      onError: (error) => log(`redis: ${error instanceof Error ? error.message : String(error)}`),
    });
    await mirror.start();
    // Before the first attempt: from now on attempts take leased slices of the run's budgets.
    const leaser = new BudgetLeaser(block, scripts, mirror, (error) => log(`redis lease: ${error instanceof Error ? error.message : String(error)}`));
    leaser.start();

    // Outcomes are committed in batches: what finished within COMMIT_WINDOW_MS of the first goes
    // in one script call (per event-loop turn, a busy process made ~0.2 calls per item).
    let commits: { line: number; final: boolean; outcome: string; resolve: () => void }[] = [];
    let commitTimer: NodeJS.Timeout | undefined;
    const flushCommits = async (): Promise<void> => {
      clearTimeout(commitTimer);
      const batch = commits;
      commits = [];
      const accepted = await scripts.commit(batch);
      accepted.forEach((ok, i) => {
        if (ok) report.committed += 1;
        else report.suppressed += 1;
        batch[i]?.resolve();
      });
    };
    const consuming = (async () => {
      for await (const result of stream) {
        const entry = inEngine.get(result.custom_id);
        if (entry === undefined) continue;
        inEngine.delete(result.custom_id);
        // An abort (this engine stopped) leaves the line open for a resume.
        const final = result.ok || result.error.category !== 'aborted';
        commits.push({ line: entry.line, final, outcome: JSON.stringify(toOutcome(result)), resolve: entry.resolve });
        const flush = (): void => void flushCommits().catch((error: unknown) => log(`commit failed: ${String(error)}`));
        if (commits.length === 1) commitTimer = setTimeout(flush, COMMIT_WINDOW_MS);
        else if (commits.length >= COMMIT_BATCH_MAX) flush();
      }
    })();

    /** Chunk jobs whose `work` has not returned. */
    let working = 0;
    async function work(job: Job<ChunkJob>): Promise<number> {
      working += 1;
      try {
        return await workChunk(job);
      } finally {
        working -= 1;
      }
    }
    async function workChunk(job: Job<ChunkJob>): Promise<number> {
      const { lines, items } = job.data;
      const todo = new Set(await scripts.pending(lines));
      const waits: Promise<void>[] = [];
      lines.forEach((line, i) => {
        const text = items[i];
        if (!todo.has(line) || text === undefined) return;
        const item = parseItem(text);
        const running = inEngine.get(item.custom_id);
        // The same chunk came back to us while its first copy is still here: wait for that one.
        if (running !== undefined) return void waits.push(running.done);
        let resolve = (): void => {};
        const done = new Promise<void>((r) => (resolve = r));
        inEngine.set(item.custom_id, { line, done, resolve });
        waits.push(done);
        feed.push(item);
      });
      await Promise.all(waits);
      return waits.length;
    }

    const chunkSlots = Math.ceil((options.concurrency ?? settings.concurrency ?? 64) / meta.chunkSize) + 1;
    const worker = new Worker<ChunkJob, number>(QUEUE_NAME, work, {
      // Shown as the chunk's `processedBy`: which machine and process holds it.
      name: `${hostname()}:${process.pid}`,
      connection: bullConnection,
      prefix: keys.queuePrefix,
      concurrency: chunkSlots,
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 10_000 },
    });
    outage.watchQueue(worker, 'queue');
    log(`joined run ${options.runId} at ${redactRedisUrl(options.redis)} (${chunkSlots} chunk(s) at a time)`);

    // Leave when the run is done or we are told to stop; either way finish the chunks we hold.
    await untilRunEnds(redis, subscriber, options.runId, options.signal);
    await closeWorker(worker, () => working === 0, log);
    feed.end();
    await consuming;
    if (commits.length > 0) await flushCommits();
    leaser.stop();
    mirror.stop();
    await spendLease?.close().catch((error: unknown) => log(`redis spend: ${String(error)}`));
    report.scriptCalls = scripts.calls;
    report.leased = leaser.units;
    const calls = Object.entries(scripts.callsOf).map(([name, n]) => `${name} ${n}`).join(', ');
    const units = (['requests', 'tokens'] as const).map((bucket) => `${bucket} ${leaser.units[bucket].leased} (lapsed ${leaser.units[bucket].lapsed}, expired ${leaser.units[bucket].expired})`).join(', ');
    log(`left run ${options.runId}: ${report.committed} outcome(s) committed, ${report.suppressed} late duplicate(s) suppressed; script calls: ${calls}; leased: ${units}`);
    return report;
  } finally {
    redis.disconnect();
    subscriber.disconnect();
    bullConnection.disconnect();
  }
}
