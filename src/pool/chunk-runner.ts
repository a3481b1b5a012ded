// Worker side of chunked dispatch (dispatcher.ts is the main side). Items reach a thread in
// chunks — one Piscina task for many items — because a task per item costs the main thread more
// than the rest of the item's handling put together. A chunk's items all start at once and each
// outcome goes back as soon as it is ready: one slow item never holds the others' results (and
// their slots on the main thread) until the chunk ends. Outcomes ready in the same turn of the
// event loop travel in one message; a chunk's last ones ride on the task's own result.

import { parentPort, threadId } from 'node:worker_threads';
import type { ItemRunner } from '../attempt/item-runner.js';
import { OUTCOMES, type ChunkOutcomes, type ItemChunk } from './messages.js';
import { failedOutcome, type ItemOutcome } from '../model/outcome.js';

export type ChunkRunner = (chunk: ItemChunk) => Promise<ChunkOutcomes>;

export function createChunkRunner(runItem: ItemRunner): ChunkRunner {
  if (parentPort === null) throw new Error('createChunkRunner runs in a worker thread');
  const port = parentPort;
  // Chunks still running that hold outcomes not sent yet.
  const unsent = new Set<ChunkOutcomes>();
  let flushScheduled = false;

  function flush(): void {
    flushScheduled = false;
    const batch: ChunkOutcomes = { threadId, seqs: [], outcomes: [] };
    for (const held of unsent) {
      for (let index = 0; index < held.seqs.length; index += 1) {
        batch.seqs.push(held.seqs[index] as number);
        batch.outcomes.push(held.outcomes[index] as ItemOutcome);
      }
      held.seqs = [];
      held.outcomes = [];
    }
    unsent.clear();
    if (batch.seqs.length > 0) port.postMessage({ [OUTCOMES]: batch });
  }

  return (chunk) => {
    const { firstSeq, items } = chunk;
    const held: ChunkOutcomes = { threadId, seqs: [], outcomes: [] };
    if (items.length === 0) return Promise.resolve(held);
    return new Promise((resolve) => {
      let left = items.length;
      const done = (seq: number, outcome: ItemOutcome): void => {
        held.seqs.push(seq);
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
      items.forEach((item, index) => {
        const seq = firstSeq + index;
        // runItem turns every failure into an outcome. Should it ever reject, only that item
        // fails: rejecting the task would make the main thread run the chunk's other items again
        // while they are still running here.
        runItem(item).then(
          (outcome) => done(seq, outcome),
          (error: unknown) => done(seq, failedOutcome(item.custom_id, 'transient', `batch-llm internal error: ${error instanceof Error ? error.message : String(error)}`, 'internal_error')),
        );
      });
      // Piscina keeps the task until it resolves: let go of the items, each is held by its run
      // only until its outcome, not until the chunk's slowest item is done.
      items.length = 0;
    });
  };
}
