// The messages that cross between the main thread and the worker threads, in one place: a chunk
// of items going out, outcomes coming back, and the tags that mark worker messages for whoever
// listens on the pool. Everything here is plain, structured-clonable data.

import type { BatchItem, ItemOutcome } from '../model/outcome.js';

/** Items for one thread; the main thread knows item `i` by the number `firstSeq + i`. */
export interface ItemChunk {
  readonly firstSeq: number;
  readonly items: BatchItem[];
}

/** Outcomes, each with its item's number: streamed in a message, or a chunk task's result. */
export interface ChunkOutcomes {
  /** The thread they come from (the main thread counts each thread's items in flight). */
  threadId: number;
  seqs: number[];
  outcomes: ItemOutcome[];
}

/** Marks a worker message that carries outcomes (the pool relays it as a 'message' event). */
export const OUTCOMES = 'batch-llm:outcomes';

/** Marks the one message a worker posts to hand the main thread its end of the event channel (event-channel.ts). */
export const EVENTS_PORT = 'batch-llm:events-port';
