// What a worker thread runs when it starts (threads/item-worker.ts is its entry): the attempt
// loop (attempt/item-runner.ts) told who this thread is and where its events go, driven over
// chunks of items (chunk-runner.ts). This is where the thread meets worker_threads; the
// attempt/ folder below it never does.

import { threadId } from 'node:worker_threads';
import { createItemRunner } from '../attempt/item-runner.js';
import type { WorkerSettings } from '../attempt/settings.js';
import { createChunkRunner, type ChunkRunner } from './chunk-runner.js';
import { openEventChannel } from './event-channel.js';
import { withReadyLines } from './ready-lines.js';

export async function startWorker(settings: WorkerSettings): Promise<ChunkRunner> {
  const emit = settings.events ? await openEventChannel() : undefined;
  const runItem = await createItemRunner(settings, { threadId, emit });
  return createChunkRunner(settings.readyLines ? withReadyLines(runItem) : runItem);
}
