// The options of a batch run: the one reference for every knob, its default, unit and minimum.
// Defaults are merged field by field with `??`, so an explicit `undefined` never erases a default.

import { resolve } from 'node:path';
import type { PriceTable } from '../model/cost.js';
import type { BatchEvent } from '../model/events.js';
import { ERROR_CATEGORIES, type BatchItem, type ErrorCategory } from '../model/outcome.js';
import type { AbortMode } from '../control/stop.js';
import { OptionsError } from '../model/errors.js';
import { CACHE_MODES, type CacheMode } from '../cache/cache-mode.js';

export interface BatchOptions {
  /** The requests to run, in the OpenAI Batch request shape. Read lazily: never held whole. */
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>;
  /**
   * Base URL of the OpenAI-compatible endpoint, including `/v1`.
   * @default process.env.OPENAI_BASE_URL (required if that is not set)
   */
  baseURL?: string | undefined;
  /**
   * API key sent as a Bearer token. Never written to results, events, summaries or errors.
   * @default process.env.OPENAI_API_KEY, else a placeholder (local servers need none)
   */
  apiKey?: string | undefined;
  /**
   * Path of a task module (TypeScript or JavaScript) whose default export is made by defineTask().
   * @default none: the built-in pass-through task sends each item's body as given
   */
  task?: string | undefined;
  /** Model for items whose body names none. @default undefined (the body must name one) */
  model?: string | undefined;
  /** Items in progress at once (in flight, waiting at the gate, or backing off). Minimum: 1. @default 64 */
  concurrency?: number | undefined;
  /**
   * Worker threads. Minimum: 1. @default one per core (os.availableParallelism()) for a task with a
   * postProcess or a call, else one fewer than the cores, at least 1 (run/thread-count.ts says why)
   */
  threads?: number | undefined;
  /**
   * Attempts per item that fail retryably (5xx, timeouts, resets): the item fails once it has
   * used them all. Rate-limit retries (`maxRateLimitRetries`) and re-asks after an invalid answer
   * (the task's `maxInvalidOutputRetries`) do not count. It also bounds thread deaths: an item
   * that has been on `maxAttempts` dead threads (at least 2, the last ones on trial alone:
   * run/crash-retry.ts) fails as `worker_crash`. Minimum: 1. @default 5
   */
  maxAttempts?: number | undefined;
  /** 429 retries per item; they have their own budget and never use up `maxAttempts`. Minimum: 0. @default 20 */
  maxRateLimitRetries?: number | undefined;
  /**
   * Time limit of one HTTP attempt, in milliseconds: from the moment the request is sent to the
   * whole answer, so time the request waits in a server's own queue counts too (a local server with
   * 4 slots and 64 requests in flight makes the last ones wait for 15 answers). Timeouts lower the
   * in-flight ceiling (halved once per burst, regrowing by one per ceiling's worth of successes),
   * so the run settles at what the server answers in time. Minimum: 1. @default 60000
   */
  attemptTimeoutMs?: number | undefined;
  /**
   * How long the endpoint may be down before the run stops, in ms. A few outage signals in a row
   * (a refused or reset connection, a 502/503/504, an attempt timeout) open a shared pause; then
   * one request at a time probes the endpoint until it answers, and the ramp resumes. Failures
   * during an outage do not use up an item's `maxAttempts`. Once the endpoint has not answered for
   * this long, the run stops (`summary.stopped`; the CLI exits 3 and `--resume` finishes it).
   * Minimum: 1. @default 600000 (10 minutes)
   */
  outagePatienceMs?: number | undefined;
  /** The first pause between two probes of an endpoint that is down, in ms; it grows to half the outage so far, up to 30 s. Minimum: 1. @default 1000 */
  outageProbeMs?: number | undefined;
  /** First backoff ceiling after a transient failure, in ms (full jitter, doubling). Minimum: 0. @default 500 */
  backoffBaseMs?: number | undefined;
  /** Cap of the backoff ceiling, in ms. Minimum: 0. @default 30000 */
  backoffMaxMs?: number | undefined;
  /**
   * Pause of a cooldown when the 429 carried no hint, in ms; doubles with each cooldown in a row
   * without a success in between. Server hints (Retry-After …) are honoured at any length.
   * Minimum: 0. @default 1000
   */
  cooldownBaseMs?: number | undefined;
  /** Cap of the escalating no-hint pause, in ms. Minimum: 0. @default 60000 */
  cooldownMaxMs?: number | undefined;
  /**
   * In-flight attempts allowed right after a cooldown ends; each success adds one, up to
   * `concurrency`. Minimum: 1; a value above `concurrency` is lowered to it. @default ceil(concurrency / 8)
   */
  rampStart?: number | undefined;
  /** After a cooldown, each waiting attempt starts after a random delay in [0, this) ms. Minimum: 0. @default 50 */
  rampJitterMs?: number | undefined;
  /**
   * Everything one item may take — waits at the gate, cooldowns, attempts, backoffs — in ms.
   * When it runs out the item fails as `timeout`; a cooldown or backoff that would outlast it
   * fails the item at once. Minimum: 1. @default none
   */
  itemDeadlineMs?: number | undefined;
  /**
   * The whole run's time budget in ms, from the start. When it runs out nothing new starts,
   * attempts still on the wire are cut off, and every unfinished item gets an `aborted` result.
   * Minimum: 1. @default none
   */
  deadlineMs?: number | undefined;
  /** Failure categories that stop the whole run (e.g. a revoked key, an empty quota). @default ["auth", "quota"] */
  failFast?: readonly ErrorCategory[] | undefined;
  /**
   * How a stopped run ends: `drain` lets attempts on the wire finish (nothing new starts);
   * `cancel` aborts them too. Either way every unfinished item gets an `aborted` result.
   * @default "drain"
   */
  abortMode?: AbortMode | undefined;
  /** Stops the run (in `abortMode`) when aborted. */
  signal?: AbortSignal | undefined;
  /**
   * Token cap of the whole run (all attempts, prompt + answer). Before an item starts it reserves
   * its worst case — prompt tokens (tokenizer count) plus its max_tokens (without one: the largest
   * answer seen so far, at least `defaultAnswerTokens`; until one is seen such items run one at a
   * time) — and it starts only if the tokens spent plus those reserved stay within the cap; else
   * it waits for the items on the wire, or the run stops. Only an item that takes more than its
   * own worst case (re-asks) can cross it; the summary's `spend_cap` says by how much.
   * Minimum: 1 token. @default none
   */
  maxTokens?: number | undefined;
  /** Cost cap of the whole run, in the currency of `prices`, reserved per item like `maxTokens` (priced); needs `prices`. Minimum: 0. @default none */
  maxCost?: number | undefined;
  /**
   * Largest answer body read, in bytes. A larger 2xx answer fails its item as `bad_request` with
   * code `response_too_large` (without reading the rest); error bodies are kept in results only
   * up to 8 KiB. Minimum: 1024. @default 16777216 (16 MiB)
   */
  maxResponseBytes?: number | undefined;
  /** Heap limit (V8 old generation) of each worker thread, in MB; a thread that exceeds it dies and is replaced. Minimum: 16. @default Node's default */
  threadMemoryMb?: number | undefined;
  /** Prices per million tokens, for cost in summaries and progress. @default none (no cost shown) */
  prices?: PriceTable | undefined;
  /**
   * Requests per minute to stay under, paced by a shared budget so 429s stay rare.
   * Minimum: > 0. @default none (no request budget unless learned from the server's headers)
   */
  rpm?: number | undefined;
  /**
   * Tokens per minute to stay under. Each attempt reserves its prompt (counted with a tokenizer)
   * plus max_tokens, and settles with the actual usage afterwards. Minimum: > 0. @default none
   */
  tpm?: number | undefined;
  /** Share of a rate limit (configured or learned) to aim for, leaving room for bursts. Range (0, 1]. @default 0.98 */
  rateHeadroom?: number | undefined;
  /** Answer tokens reserved against `tpm` for a request without max_tokens / max_completion_tokens. Minimum: 0. @default 256 */
  defaultAnswerTokens?: number | undefined;
  /**
   * Read x-ratelimit-limit/remaining/reset-* headers and tighten the budgets to what the server
   * says (a limit it reports turns on that budget even without rpm / tpm). @default true
   */
  learnRateLimits?: boolean | undefined;
  /**
   * Directory of the response cache (an LMDB environment, created when missing; several runs and
   * processes may share it). A request answered before (same endpoint, path and body, keys in any
   * order) succeeds from the cache without being sent; identical requests in flight at once are
   * sent once. Answers of any temperature are cached. @default none (no cache)
   */
  cache?: string | undefined;
  /**
   * How the run uses `cache`: `read-write` answers from it and stores new answers, `read-only`
   * answers from it and stores nothing, `refresh` sends every request and overwrites the stored
   * answers. @default "read-write"
   */
  cacheMode?: CacheMode | undefined;
  /** Extra HTTP headers for every request. @default {} */
  headers?: Record<string, string> | undefined;
  /**
   * Observer of run events — cooldowns opening and ending, failed attempts, rate limits — called
   * on the main thread. Item events travel from the worker threads over a channel that is only
   * opened when an observer is given.
   */
  onEvent?: ((event: BatchEvent) => void) | undefined;
  /**
   * Path of a trace file to write: every event `onEvent` would get, one JSON object a line, each
   * with `t` (ms since the run started, monotonic). API keys never appear in it.
   * @default none (no trace)
   */
  trace?: string | undefined;
  /** How often the time series is sampled (into the trace, and its aggregate into the summary), in ms. Minimum: 10. @default 1000 */
  sampleIntervalMs?: number | undefined;
  /** Input record field that the summary groups the task's scores by (task.score). @default none */
  groupBy?: string | undefined;
}

/** Items in progress at once when the caller does not say (`concurrency` / --concurrency). */
export const DEFAULT_CONCURRENCY = 64;

type Optional = 'cache' | 'model' | 'onEvent' | 'trace' | 'groupBy' | 'task' | 'threads' | 'prices' | 'itemDeadlineMs' | 'deadlineMs' | 'signal' | 'maxTokens' | 'maxCost' | 'threadMemoryMb' | 'rpm' | 'tpm';
type Defaulted = Exclude<keyof BatchOptions, Optional>;

/** Options with every default filled in; the others may stay unset. */
export type ResolvedOptions = { [K in Defaulted]-?: Exclude<BatchOptions[K], undefined> } & {
  [K in Optional]?: Exclude<BatchOptions[K], undefined>;
};


function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new OptionsError(`Expected \`${name}\` to be an integer >= ${min}, got \`${String(v)}\` (${typeof v})`);
  }
  return v;
}

function finite(name: string, value: number | undefined, fallback: number, min: number, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new OptionsError(`Expected \`${name}\` to be ${what} >= ${min}, got \`${String(v)}\` (${typeof v})`);
  }
  return v;
}

function ms(name: string, value: number | undefined, fallback: number, min = 0): number {
  return finite(name, value, fallback, min, 'a finite number of milliseconds');
}

function price(name: string, value: number | undefined): number {
  return finite(name, value, Number.NaN, 0, 'a finite price per million tokens');
}

function positive(name: string, value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OptionsError(`Expected \`${name}\` to be ${what} > 0, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

/** Validate and fill in the defaults. Throws OptionsError naming the option, what was expected and what came. */
export function resolveOptions(options: BatchOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const baseURL = options.baseURL ?? env['OPENAI_BASE_URL'];
  if (typeof baseURL !== 'string' || !/^https?:\/\//.test(baseURL)) {
    throw new OptionsError(
      `Expected \`baseURL\` (or OPENAI_BASE_URL) to be an http(s) URL, got \`${String(baseURL)}\` (${typeof baseURL})`,
    );
  }
  if (options.items == null) throw new OptionsError('Expected `items` to be an iterable of requests, got nothing');
  const concurrency = integer('concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1);
  const resolved: ResolvedOptions = {
    items: options.items,
    baseURL,
    apiKey: options.apiKey ?? env['OPENAI_API_KEY'] ?? 'no-key',
    concurrency,
    // Unset, the run decides once it has loaded the task (run/thread-count.ts).
    ...(options.threads === undefined ? {} : { threads: integer('threads', options.threads, 1, 1) }),
    maxAttempts: integer('maxAttempts', options.maxAttempts, 5, 1),
    maxRateLimitRetries: integer('maxRateLimitRetries', options.maxRateLimitRetries, 20, 0),
    attemptTimeoutMs: ms('attemptTimeoutMs', options.attemptTimeoutMs, 60_000, 1),
    outagePatienceMs: ms('outagePatienceMs', options.outagePatienceMs, 600_000, 1),
    outageProbeMs: ms('outageProbeMs', options.outageProbeMs, 1_000, 1),
    backoffBaseMs: ms('backoffBaseMs', options.backoffBaseMs, 500),
    backoffMaxMs: ms('backoffMaxMs', options.backoffMaxMs, 30_000),
    cooldownBaseMs: ms('cooldownBaseMs', options.cooldownBaseMs, 1_000),
    cooldownMaxMs: ms('cooldownMaxMs', options.cooldownMaxMs, 60_000),
    rampStart: Math.min(concurrency, integer('rampStart', options.rampStart, Math.ceil(concurrency / 8), 1)),
    rampJitterMs: ms('rampJitterMs', options.rampJitterMs, 50),
    headers: options.headers ?? {},
    maxResponseBytes: integer('maxResponseBytes', options.maxResponseBytes, 16 * 1024 * 1024, 1024),
    rateHeadroom: positive('rateHeadroom', options.rateHeadroom ?? 0.98, 'a share of the limit'),
    defaultAnswerTokens: integer('defaultAnswerTokens', options.defaultAnswerTokens, 256, 0),
    learnRateLimits: options.learnRateLimits ?? true,
    failFast: options.failFast ?? ['auth', 'quota'],
    abortMode: options.abortMode ?? 'drain',
    sampleIntervalMs: ms('sampleIntervalMs', options.sampleIntervalMs, 1_000, 10),
    cacheMode: options.cacheMode ?? 'read-write',
  };
  for (const category of resolved.failFast) {
    if (!(ERROR_CATEGORIES as readonly string[]).includes(category)) {
      throw new OptionsError(`Expected \`failFast\` to hold error categories (${ERROR_CATEGORIES.join(', ')}), got \`${String(category)}\``);
    }
  }
  if (resolved.abortMode !== 'drain' && resolved.abortMode !== 'cancel') {
    throw new OptionsError(`Expected \`abortMode\` to be "drain" or "cancel", got \`${String(resolved.abortMode)}\``);
  }
  if (resolved.rateHeadroom > 1) throw new OptionsError(`Expected \`rateHeadroom\` to be a share in (0, 1], got \`${resolved.rateHeadroom}\` (number)`);
  if (options.rpm !== undefined) resolved.rpm = positive('rpm', options.rpm, 'a finite number of requests per minute');
  if (options.tpm !== undefined) resolved.tpm = positive('tpm', options.tpm, 'a finite number of tokens per minute');
  if (options.itemDeadlineMs !== undefined) resolved.itemDeadlineMs = ms('itemDeadlineMs', options.itemDeadlineMs, 0, 1);
  if (options.deadlineMs !== undefined) resolved.deadlineMs = ms('deadlineMs', options.deadlineMs, 0, 1);
  if (options.maxTokens !== undefined) resolved.maxTokens = integer('maxTokens', options.maxTokens, 0, 1);
  if (options.maxCost !== undefined) {
    if (options.prices === undefined) throw new OptionsError('Expected `prices` with `maxCost`: a cost cap needs a price table');
    resolved.maxCost = finite('maxCost', options.maxCost, 0, 0, 'a finite amount');
  }
  if (options.threadMemoryMb !== undefined) resolved.threadMemoryMb = integer('threadMemoryMb', options.threadMemoryMb, 0, 16);
  if (options.signal !== undefined) resolved.signal = options.signal;
  if (options.task !== undefined) {
    if (typeof options.task !== 'string' || options.task === '') {
      throw new OptionsError(`Expected \`task\` to be the path of a task module, got \`${String(options.task)}\` (${typeof options.task})`);
    }
    resolved.task = resolve(options.task);
  }
  if (options.prices !== undefined) {
    const { inputPerMillion, outputPerMillion, cachedInputPerMillion } = options.prices;
    price('prices.inputPerMillion', inputPerMillion);
    price('prices.outputPerMillion', outputPerMillion);
    if (cachedInputPerMillion !== undefined) price('prices.cachedInputPerMillion', cachedInputPerMillion);
    resolved.prices = options.prices;
  }
  if (!CACHE_MODES.includes(resolved.cacheMode)) {
    throw new OptionsError(`Expected \`cacheMode\` to be one of ${CACHE_MODES.join(', ')}, got \`${String(resolved.cacheMode)}\``);
  }
  if (options.cache !== undefined) {
    if (typeof options.cache !== 'string' || options.cache === '') {
      throw new OptionsError(`Expected \`cache\` to be a directory path, got \`${String(options.cache)}\` (${typeof options.cache})`);
    }
    resolved.cache = resolve(options.cache);
  }
  if (options.model !== undefined) resolved.model = options.model;
  if (options.onEvent !== undefined) resolved.onEvent = options.onEvent;
  if (options.groupBy !== undefined) {
    if (typeof options.groupBy !== 'string' || options.groupBy === '') {
      throw new OptionsError(`Expected \`groupBy\` to be the name of a record field, got \`${String(options.groupBy)}\` (${typeof options.groupBy})`);
    }
    resolved.groupBy = options.groupBy;
  }
  if (options.trace !== undefined) {
    if (typeof options.trace !== 'string' || options.trace === '') {
      throw new OptionsError(`Expected \`trace\` to be the path of a file to write, got \`${String(options.trace)}\` (${typeof options.trace})`);
    }
    resolved.trace = resolve(options.trace);
  }
  return resolved;
}
