// Main side of chunked dispatch (chunk-runner.ts is the worker side). `run(item)` looks like a
// task per item; underneath, the items handed over in one turn of the event loop go out together
// as one Piscina task per thread, and outcomes come back in batches. Per item the main thread
// then pays for a map entry and a promise instead of a Piscina task (a message, a task record,
// an async resource, a balancing pass), which made it the bottleneck of fast runs.

import { DispatcherClosed } from '../model/errors.js';
import { OUTCOMES, type ChunkOutcomes, type ItemChunk } from './messages.js';
import type { BatchItem, ItemOutcome } from '../model/outcome.js';
import type { ItemPool } from './pool.js';
import { CHUNK_SIZE, type ThreadBalancer } from './thread-balancer.js';

/**
 * The fewest items a turn's queue splits into a chunk per thread for. A smaller queue goes whole
 * to the thread with the fewest items in flight: in steady state a turn admits only the few items
 * whose outcomes just came back, and split one chunk per thread they made a Piscina task per item
 * or two (measured at 2 threads, CPU-heavy task: 1,185 tasks for 1,500 items, against 113 at 1
 * thread). Taking turns, the threads still get about as many items each.
 */
const MIN_SPLIT_ITEMS = 8;

interface Waiting {
  item: BatchItem;
  resolve: (outcome: ItemOutcome) => void;
  reject: (error: unknown) => void;
}


export class Dispatcher {
  readonly #pool: ItemPool;
  readonly #threads: number;
  readonly #balancer: ThreadBalancer;
  /** Items handed over in this turn, not sent yet. */
  #queue: Waiting[] = [];
  /** Items sent, by number, until their outcome comes back or their thread dies. */
  readonly #sent = new Map<number, Waiting>();
  #nextSeq = 0;
  #flushScheduled = false;
  #closed = false;
  readonly #onMessage = (message: unknown): void => {
    const batch = (message as Record<string, unknown> | null)?.[OUTCOMES];
    if (batch !== undefined) this.#deliver(batch as ChunkOutcomes);
  };
  readonly #onWorkerDestroy = (worker: { id: number }): void => this.#balancer.forget(worker.id);

  /** `balancer` must be the pool's `loadBalancer` (see createPool). */
  constructor(pool: ItemPool, threads: number, balancer: ThreadBalancer) {
    this.#pool = pool;
    this.#threads = threads;
    this.#balancer = balancer;
    pool.on('message', this.#onMessage);
    pool.on('workerDestroy', this.#onWorkerDestroy);
  }

  /** Resolves with the item's outcome; rejects if the thread running it died first, or the run ended. */
  run(item: BatchItem): Promise<ItemOutcome> {
    if (this.#closed) return Promise.reject(new DispatcherClosed());
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After this turn: everything the scheduler admits meanwhile joins the same chunks.
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Sends nothing more: items not sent yet, and later calls to `run`, are refused. A Piscina pool
   * would start a new thread for a task that came after its destroy().
   */
  close(): void {
    this.#closed = true;
    this.#pool.off('message', this.#onMessage);
    this.#pool.off('workerDestroy', this.#onWorkerDestroy);
    for (const waiting of this.#queue) waiting.reject(new DispatcherClosed());
    this.#queue = [];
  }

  #flush(): void {
    this.#flushScheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    // One chunk per thread (one in all for a short queue); the balancer gives each to the thread
    // with the fewest items in flight.
    const parts = Math.max(1, Math.min(this.#threads, Math.floor(queue.length / MIN_SPLIT_ITEMS)));
    const size = Math.ceil(queue.length / parts);
    for (let start = 0; start < queue.length; start += size) {
      const part = queue.slice(start, start + size);
      const firstSeq = this.#nextSeq;
      const count = part.length;
      this.#nextSeq += count;
      part.forEach((waiting, index) => this.#sent.set(firstSeq + index, waiting));
      const chunk: ItemChunk = { firstSeq, items: part.map((waiting) => waiting.item), [CHUNK_SIZE]: { items: count } };
      // No AbortSignal is ever passed to pool.run: Piscina runs an abortable task alone on its
      // thread. A rejection means the thread died: the chunk's items without an outcome yet fail
      // over to the caller, which may run them again. (The handlers keep only numbers, not the
      // chunk: its finished items must not stay in memory while a slow one holds the task open.)
      this.#pool.run(chunk).then(
        (rest) => this.#deliver(rest),
        (error: unknown) => {
          for (let seq = firstSeq; seq < firstSeq + count; seq += 1) {
            const waiting = this.#sent.get(seq);
            if (waiting === undefined) continue;
            this.#sent.delete(seq);
            waiting.reject(error);
          }
        },
      );
    }
  }

  #deliver({ threadId, seqs, outcomes }: ChunkOutcomes): void {
    this.#balancer.finished(threadId, seqs.length);
    for (let index = 0; index < seqs.length; index += 1) {
      const seq = seqs[index] as number;
      const waiting = this.#sent.get(seq);
      // An outcome can arrive after its thread was declared dead and the item handed back; the
      // item has been given to the caller again by then, and only one outcome may count.
      if (waiting === undefined) continue;
      const outcome = outcomes[index];
      if (outcome === undefined) throw new Error(`batch-llm internal error: outcome ${seq} missing from its batch`);
      this.#sent.delete(seq);
      waiting.resolve(outcome);
    }
  }
}
