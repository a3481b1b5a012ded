// Which thread takes the next chunk of items: the one with the fewest items in flight. Piscina's
// own balancer counts tasks, and a chunk is one task whatever its size; it also sends every tie to
// the first thread. Seen: 3,000 quick items split 2,656 / 344 over two threads, because the
// thread that happened to finish a chunk first took the next two. Here each chunk carries its
// size to the balancer (Piscina's queue-options symbol, which never crosses to the thread), the
// count rises when a thread takes a chunk and falls as its outcomes come back.

import { queueOptionsSymbol, type Piscina } from 'piscina';

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;
type PoolTask = Parameters<LoadBalancer>[0];
type PoolWorker = Parameters<LoadBalancer>[1][number];

/** What a chunk tells the balancer about itself. */
export interface ChunkSize {
  items: number;
}

/** The property a chunk carries its size in (kept off the thread: structured clone drops symbol keys). */
export const CHUNK_SIZE = queueOptionsSymbol;

export class ThreadBalancer {
  /** Items in flight by thread id. */
  readonly #items = new Map<number, number>();

  /** Piscina's `loadBalancer`: picks the thread, and counts the chunk's items against it. */
  readonly pick: LoadBalancer = (task: PoolTask, workers: PoolWorker[]) => {
    const size = (task[queueOptionsSymbol] as ChunkSize | null)?.items ?? 1;
    let chosen: PoolWorker | null = null;
    let fewest = Infinity;
    for (const worker of workers) {
      if (worker.terminating || worker.destroyed) continue;
      const count = this.#items.get(worker.id) ?? 0;
      if (count < fewest) {
        chosen = worker;
        fewest = count;
      }
    }
    if (chosen !== null) this.#items.set(chosen.id, fewest + size);
    return chosen;
  };

  /** `count` items of this thread have their outcomes. */
  finished(threadId: number, count: number): void {
    const left = (this.#items.get(threadId) ?? 0) - count;
    if (left > 0) this.#items.set(threadId, left);
    else this.#items.delete(threadId);
  }

  /** The thread is gone; its items are handed back to the caller, not waited for. */
  forget(threadId: number): void {
    this.#items.delete(threadId);
  }
}
