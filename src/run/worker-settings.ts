// The resolved options, as the plain data every worker thread receives (attempt/settings.ts).

import type { WorkerSettings } from '../attempt/settings.js';
import type { ControlBlock } from '../control/control-block.js';
import { endpointIdentity } from '../model/redact.js';
import { packageVersion } from '../model/version.js';
import type { ResolvedOptions } from './options.js';
import { runSecrets } from '../model/redact.js';

/**
 * `runDeadline` is the run's deadline as epoch ms, or null (computed once, by the caller);
 * `events` whether anybody observes the run's events (run-observer.ts), `readyLines` whether the
 * outcomes carry their results-file line instead of their body and value (RunHooks.readyLines).
 */
export function workerSettings(resolved: ResolvedOptions, block: ControlBlock, runDeadline: number | null, events: boolean, readyLines = false): WorkerSettings {
  return {
    control: block.buffer,
    baseURL: resolved.baseURL,
    apiKey: resolved.apiKey,
    secrets: runSecrets(resolved),
    headers: resolved.headers,
    userAgent: `batch-llm/${packageVersion()}`,
    maxResponseBytes: resolved.maxResponseBytes,
    // Each item has at most one request open. The balancer's per-thread counts lag the outcomes
    // in transit, so a thread may briefly hold more than its share: never make its items queue
    // for a socket.
    maxSockets: resolved.concurrency,
    model: resolved.model ?? null,
    taskFile: resolved.task ?? null,
    groupBy: resolved.groupBy ?? null,
    attemptTimeoutMs: resolved.attemptTimeoutMs,
    itemDeadlineMs: resolved.itemDeadlineMs ?? null,
    runDeadline,
    maxAttempts: resolved.maxAttempts,
    maxRateLimitRetries: resolved.maxRateLimitRetries,
    backoffBaseMs: resolved.backoffBaseMs,
    backoffMaxMs: resolved.backoffMaxMs,
    cooldownBaseMs: resolved.cooldownBaseMs,
    cooldownMaxMs: resolved.cooldownMaxMs,
    rampJitterMs: resolved.rampJitterMs,
    outageProbeMs: resolved.outageProbeMs,
    rateHeadroom: resolved.rateHeadroom,
    defaultAnswerTokens: resolved.defaultAnswerTokens,
    learnRateLimits: resolved.learnRateLimits,
    events,
    readyLines,
    cache: resolved.cache === undefined ? null : { directory: resolved.cache, mode: resolved.cacheMode, endpoint: endpointIdentity(resolved.baseURL) },
  };
}
