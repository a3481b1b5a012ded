// The attempt loop, run in a worker thread for one item at a time (many items per thread at
// once): gate -> call -> classify -> succeed, retry after a backoff, or join the cooldown.
// The item stays here across all its retries; it is never re-queued.

import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from './classify.js';
import { attachControlBlock, I32, type ControlBlock } from './control-block.js';
import { reportRateLimit } from './cooldown.js';
import { enterGate } from './gate.js';
import { callEndpoint, createClient, endpointPath, type ClientSettings } from './openai-call.js';
import type { BatchItem, ItemOutcome, ItemStats } from './outcome.js';
import { recordSuccess, releasePermit } from './permits.js';
import { backoffMs } from './retry.js';
import { addUsage, emptyUsage, usageFromBody } from './usage.js';

/** What a worker thread receives in `workerData`: plain data only. */
export interface WorkerSettings extends ClientSettings {
  control: SharedArrayBuffer;
  model: string | null;
  maxAttempts: number;
  maxRateLimitRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  cooldownBaseMs: number;
  cooldownMaxMs: number;
  rampJitterMs: number;
}

export type ItemRunner = (item: BatchItem) => Promise<ItemOutcome>;

export function createItemRunner(settings: WorkerSettings): ItemRunner {
  const block: ControlBlock = attachControlBlock(settings.control);
  const client = createClient(settings);
  const pause = { baseMs: settings.cooldownBaseMs, maxMs: settings.cooldownMaxMs };

  return async function runItem(item: BatchItem): Promise<ItemOutcome> {
    const started = performance.now();
    const stats: ItemStats = { attempts: 0, rateLimited: 0, latencyMs: 0, usage: emptyUsage() };
    const body = settings.model !== null && item.body['model'] === undefined ? { ...item.body, model: settings.model } : item.body;
    const path = endpointPath(item.url);
    const done = <T extends ItemOutcome>(outcome: T): T => {
      stats.latencyMs = performance.now() - started;
      return outcome;
    };

    for (;;) {
      const gen = await enterGate(block, settings.rampJitterMs);
      Atomics.add(block.i32, I32.REQUESTS, 1);
      stats.attempts += 1;
      let result;
      try {
        result = await callEndpoint(client, path, body, settings.apiKey);
      } finally {
        releasePermit(block);
      }

      if (result.ok) {
        const usage = usageFromBody(result.body);
        if (usage) addUsage(stats.usage, usage);
        recordSuccess(block);
        return done({ ok: true, custom_id: item.custom_id, status: result.status, requestId: result.requestId, body: result.body, stats });
      }

      const { failure } = result;
      const usage = usageFromBody(failure.body);
      if (usage) addUsage(stats.usage, usage);
      const fail = () =>
        done({
          ok: false as const,
          custom_id: item.custom_id,
          error: { category: failure.category, code: failure.code, status: failure.status, message: failure.message },
          requestId: failure.requestId,
          body: failure.body,
          stats,
        });

      if (failure.category === 'rate_limit') {
        stats.rateLimited += 1;
        // Report even when this item is out of budget: everybody else should still pause.
        reportRateLimit(block, gen, failure.hintMs, pause, Date.now());
        if (stats.rateLimited > settings.maxRateLimitRetries) return fail();
        continue;
      }

      const counted = stats.attempts - stats.rateLimited;
      if (!isRetryable(failure.category) || counted >= settings.maxAttempts) return fail();
      await sleep(backoffMs(counted, settings.backoffBaseMs, settings.backoffMaxMs));
    }
  };
}
