// The attempt loop's view of the response cache (cache/response-cache.ts): a lookup before the
// gate (a hit takes no permit, no rate budget and sends nothing) and a store after a successful
// answer, both as the cache mode allows. Every 2xx answer is stored under the exact request that
// was sent, before the task validates it: validation and post-processing run on cached answers
// too (the task may have changed since), and a re-ask with feedback is a request of its own.

import type { CacheMode } from '../cache/cache-mode.js';
import { requestKey } from '../cache/request-key.js';
import type { CallResult } from './http-client.js';

type Answer = Extract<CallResult, { ok: true }>;

export interface CachedAnswers {
  /** The stored answer to this request, or null (always null in refresh mode). */
  lookup(path: string, body: Record<string, unknown>): Answer | null;
  /**
   * Stores an answer (not in read-only mode) and resolves, once other threads and processes can
   * see it, with the answer to show: this one, or the one stored first by another thread or process
   * that asked the same request meanwhile (cache/response-cache.ts putIfAbsent). `replace` stores
   * over what is there — refresh mode always does, and so does a re-ask of a cached answer that
   * failed validation — and shows this answer.
   */
  store(path: string, body: Record<string, unknown>, answer: Answer, replace: boolean): Promise<Answer>;
}

/** Loads LMDB's native code only in runs with a cache: a worker without one starts as fast as before. */
export async function openCachedAnswers(settings: { directory: string; mode: CacheMode; endpoint: string }): Promise<CachedAnswers> {
  const { ResponseCache } = await import('../cache/response-cache.js');
  const cache = new ResponseCache(settings.directory);
  const { mode, endpoint } = settings;
  return {
    lookup(path, body) {
      if (mode === 'refresh') return null;
      const hit = cache.get(requestKey(endpoint, path, body));
      return hit === null ? null : { ok: true, status: hit.status, requestId: hit.requestId, body: hit.body, headers: null };
    },
    async store(path, body, answer, replace) {
      if (mode === 'read-only') return answer;
      const key = requestKey(endpoint, path, body);
      if (replace || mode === 'refresh') {
        await cache.put(key, answer);
        return answer;
      }
      const first = await cache.putIfAbsent(key, answer);
      if (first === null) return answer;
      // Its headers are this request's: the rate-limit hints they carry were about this request.
      return { ...answer, status: first.status, requestId: first.requestId, body: first.body };
    },
  };
}
