// Which items count as the same request for in-flight coalescing (cache/coalesce.ts). The main
// thread does not build requests (a task's buildRequest runs in the worker threads), so it
// compares what a request is made from: endpoint, path, the item's body or record, the task and
// the default model. Equal inputs make equal requests unless buildRequest is not deterministic,
// and then the follower's thread simply misses the cache and asks for itself: coalescing can cost
// a wait, never a wrong answer. Only in read-write mode: read-only stores nothing a follower
// could find, and refresh is meant to ask every request again.

import { InFlight } from '../cache/coalesce.js';
import { requestKey } from '../cache/request-key.js';
import type { WorkerSettings } from '../attempt/settings.js';
import type { BatchItem, ItemOutcome } from '../model/outcome.js';

export type Coalesce = (item: BatchItem, dispatch: (item: BatchItem) => Promise<ItemOutcome>) => Promise<ItemOutcome>;

export function coalescer(settings: WorkerSettings): Coalesce {
  const cache = settings.cache;
  if (cache === null || cache.mode !== 'read-write') return (item, dispatch) => dispatch(item);
  const inFlight = new InFlight();
  return (item, dispatch) => {
    const input = { body: item.body ?? null, record: item.record ?? null, task: settings.taskFile, model: settings.model };
    return inFlight.run(requestKey(cache.endpoint, item.url ?? '/v1/chat/completions', input), () => dispatch(item));
  };
}
