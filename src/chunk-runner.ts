// Worker side of chunked dispatch (dispatcher.ts is the main side). Items reach a thread in
// chunks — one Piscina task for many items — because a task per item costs the main thread more
// than the rest of the item's handling put together. A chunk's items all start at once and each
// outcome goes back as soon as it is ready: one slow item never holds the others' results (and
// their slots on the main thread) until the chunk ends. Outcomes ready in the same turn of the
// event loop travel in one message; a chunk's last ones ride on the task's own result.

import { parentPort } from 'node:worker_threads';
import type { ItemRunner } from './item-runner.js';
import type { BatchItem, ItemOutcome } from './outcome.js';

/** Items for one thread; the main thread knows item `i` by the number `firstSeq + i`. */
export interface ItemChunk {
  readonly firstSeq: number;
  readonly items: BatchItem[];
}

/** Outcomes, each with its item's number: streamed in a message, or a chunk task's result. */
export interface ChunkOutcomes {
  seqs: number[];
  outcomes: ItemOutcome[];
}

/** Marks a worker message that carries outcomes (the pool relays it as a 'message' event). */
export const OUTCOMES = 'batch-llm:outcomes';

export type ChunkRunner = (chunk: ItemChunk) => Promise<ChunkOutcomes>;

export function createChunkRunner(runItem: ItemRunner): ChunkRunner {
  const port = parentPort;
  if (port === null) throw new Error('createChunkRunner runs in a worker thread');
  // Chunks still running that hold outcomes not sent yet.
  const unsent = new Set<ChunkOutcomes>();
  let flushScheduled = false;

  function flush(): void {
    flushScheduled = false;
    const batch: ChunkOutcomes = { seqs: [], outcomes: [] };
    for (const held of unsent) {
      batch.seqs.push(...held.seqs);
      batch.outcomes.push(...held.outcomes);
      held.seqs = [];
      held.outcomes = [];
    }
    unsent.clear();
    if (batch.seqs.length > 0) port?.postMessage({ [OUTCOMES]: batch });
  }

  return (chunk) =>
    new Promise((resolve, reject) => {
      const held: ChunkOutcomes = { seqs: [], outcomes: [] };
      let left = chunk.items.length;
      chunk.items.forEach((item, index) => {
        const done = (outcome: ItemOutcome): void => {
          held.seqs.push(chunk.firstSeq + index);
          held.outcomes.push(outcome);
          left -= 1;
          if (left === 0) {
            // The task's result carries what is still held; the chunk is over.
            unsent.delete(held);
            resolve(held);
            return;
          }
          unsent.add(held);
          if (!flushScheduled) {
            flushScheduled = true;
            setImmediate(flush);
          }
        };
        // runItem turns every failure into an outcome; should it ever reject, failing the task
        // makes the main thread re-run the chunk's unfinished items as after a crash.
        runItem(item).then(done, reject);
      });
    });
}
