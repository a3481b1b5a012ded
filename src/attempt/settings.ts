// What a worker thread receives in `workerData`: the resolved options an item's attempts need,
// as plain data (it is structured-cloned into every thread). run/run-batch.ts fills it in.

import type { ClockSettings } from '../control/interrupt.js';
import type { ClientSettings } from './http-client.js';
import type { CacheMode } from '../cache/cache-mode.js';

export interface WorkerSettings extends ClientSettings, ClockSettings {
  /** The run's control block (control/control-block.ts), shared by every thread. */
  control: SharedArrayBuffer;
  /** The model for bodies that name none, or null. */
  model: string | null;
  /** Absolute path of the task module, or null for the built-in pass-through task. */
  taskFile: string | null;
  /** The record field scores are grouped by (`groupBy`), or null. */
  groupBy: string | null;
  /** Attempts per item that fail retryably (5xx, timeouts, resets) and thread deaths; 429s and re-asks have their own budgets. */
  maxAttempts: number;
  /** 429s per item before it fails as rate_limit. */
  maxRateLimitRetries: number;
  /** First retry backoff, in ms (doubling, full jitter). */
  backoffBaseMs: number;
  /** Cap of the retry backoff, in ms. */
  backoffMaxMs: number;
  /** First cooldown without a server hint, in ms (escalating). */
  cooldownBaseMs: number;
  /** Cap of the escalating cooldown, in ms (server hints are honoured beyond it). */
  cooldownMaxMs: number;
  /** The first pause between probes of an endpoint that is down, in ms (control/outage.ts). */
  outageProbeMs: number;
  /** Spread of the ramp's re-entry after a cooldown, in ms. */
  rampJitterMs: number;
  /** Share of a rate limit to use (control/rate-budget.ts). */
  rateHeadroom: number;
  /** Answer tokens reserved for a request without max_tokens. */
  defaultAnswerTokens: number;
  /** Whether x-ratelimit-* headers tighten the budgets (attempt/pacer.ts). */
  learnRateLimits: boolean;
  /** The response cache (cache/response-cache.ts) and how to use it, or null for none. */
  cache: { directory: string; mode: CacheMode; endpoint: string } | null;
  /** Whether an observer wants item events (sent over a Comlink channel, pool/event-channel.ts). */
  events: boolean;
  /** Whether outcomes carry their results-file line, made in the worker (pool/ready-lines.ts), instead of their body and value. */
  readyLines: boolean;
}
