// The attempt loop, run in a worker thread for one item at a time (many items per thread at
// once): gate -> call -> classify -> succeed, retry after a backoff, or join the cooldown; with a
// task, also build the request, validate the answer (re-asking when it is invalid) and
// post-process it. The item stays here across all its retries; it is never re-queued.
// Every wait is bounded by the item's clock (interrupt.ts): its deadline, the run's, a stop.

import { basename } from 'node:path';
import { attachControlBlock, I32, type ControlBlock } from '../control/control-block.js';
import { cooldownEnd, reportRateLimit } from '../control/cooldown.js';
import { commitAttempt, enterGate, gateMoved } from '../control/gate.js';
import { interruptible, startItemClock, taskScope, type ItemClock, type TaskScope } from '../control/interrupt.js';
import { sleepLong } from '../control/long-timer.js';
import { ceilingAfterTimeout, ceilingWindow, recordSuccess, releasePermit } from '../control/permits.js';
import { endpointAnswered, reportOutage, type OutageReport } from '../control/outage.js';
import { RateBudget } from '../control/rate-budget.js';
import { LeaseCredit } from '../control/lease-credit.js';
import { isStopping, watchStop } from '../control/stop.js';
import { claimThreadSlot } from '../control/thread-slots.js';
import { ItemFailed, RUN_STOPPED } from '../model/errors.js';
import type { BatchEvent, RateLimitReport } from '../model/events.js';
import type { BatchItem, ErrorCategory, ItemOutcome, ItemStats } from '../model/outcome.js';
import { redactAll } from '../model/redact.js';
import { addUsage, emptyUsage, usageFromBody } from '../model/usage.js';
import { endpointOfUrl, SUPPORTED_URLS_TEXT, type Endpoint } from '../model/endpoint.js';
import { askForSchema, checkAnswer, loadSchemaTools, responseFormat, schemaEndpointProblem, withFeedback } from '../task/answer.js';
import { loadTask } from '../task/task-loader.js';
import { checkScore, groupOf } from '../task/score.js';
import type { Task, TaskContext } from '../task/task.js';
import { uncloneablePart } from '../task/cloneable.js';
import { backoffMs } from './backoff.js';
import { openCachedAnswers } from './cached-answers.js';
import { isRetryable, outageSignal, type ClassifiedFailure } from './classify.js';
import { createHttpClient, endpointPath, type CallResult } from './http-client.js';
import { Pacer } from './pacer.js';
import { raisedEvent, rateLimitedEvent } from './trace-events.js';
import type { WorkerSettings } from './settings.js';

export type ItemRunner = (item: BatchItem) => Promise<ItemOutcome>;

/** What the thread running the items provides (pool/worker-main.ts): who it is, and where events go. */
export interface ThreadContext {
  readonly threadId: number;
  /** Sends an event to the main thread's observer; absent when nobody observes. */
  readonly emit?: ((event: BatchEvent) => void) | undefined;
}

/** The body with its answer-length cap (max_completion_tokens, max_tokens or max_output_tokens) grown by `factor`. */
function withMoreTokens(body: Record<string, unknown>, factor: number): Record<string, unknown> {
  for (const key of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
    const cap = body[key];
    if (typeof cap === 'number' && cap > 0) return { ...body, [key]: Math.ceil(cap * factor) };
  }
  return body;
}

/**
 * What task code gets with each stage. The signal is made when the code reads it (taskScope). A
 * class: an object literal with a getter costs V8 ~0.7 µs to make, a class instance ~0.03 µs.
 */
class ItemContext implements TaskContext {
  readonly customId: string;
  readonly #scope: TaskScope | null;
  readonly #cancel: AbortSignal;

  constructor(customId: string, scope: TaskScope | null, cancel: AbortSignal) {
    this.customId = customId;
    this.#scope = scope;
    this.#cancel = cancel;
  }

  get signal(): AbortSignal {
    return this.#scope?.signal ?? this.#cancel;
  }
}

/** Whether task code handed back a promise (or any thenable) rather than a value. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What one item's attempts share, from its first attempt to its outcome. */
interface ItemRun {
  readonly item: BatchItem;
  /** The endpoint of the item's url. */
  readonly endpoint: Endpoint;
  readonly clock: ItemClock;
  /** The task code's scope (its signal, raced against the deadline); null without a task. */
  readonly scope: TaskScope | null;
  readonly context: TaskContext;
  readonly stats: ItemStats;
}

type Success = Extract<CallResult, { ok: true }>;
type SuccessOutcome = Extract<ItemOutcome, { ok: true }>;

/**
 * An attempt that got an answer or a failure; `gen` is the gate generation it went in under,
 * `globalGen` the even global (distributed) generation it was sent in, both 0 when cached, and
 * `window` the in-flight ceiling's window it was sent in (control/permits.ts).
 */
interface Attempt {
  readonly result: Exclude<CallResult, { ok: 'unsent' }>;
  readonly cached: boolean;
  readonly gen: number;
  readonly globalGen: number;
  readonly window: number;
  /** What reporting an outage signal did (outage.ts), before the permit was released; null for other results. */
  readonly outage: OutageReport | null;
  /** A 429's report to the cooldown, made before the attempt's permit was released; null otherwise. */
  readonly rateLimit: RateLimitReported | null;
}

/** What reporting a 429 did (cooldown.ts), and the cooldown's end before it (for the event). */
interface RateLimitReported {
  readonly report: RateLimitReport;
  readonly endBefore: number | null;
}

/** What the schema check made of a 200's answer. */
type Checked =
  | { readonly kind: 'valid'; readonly value: unknown }
  | { readonly kind: 'reask'; readonly body: Record<string, unknown> }
  | { readonly kind: 'invalid'; readonly problem: string };

export async function createItemRunner(settings: WorkerSettings, thread: ThreadContext): Promise<ItemRunner> {
  const block: ControlBlock = attachControlBlock(settings.control);
  const slot = claimThreadSlot(block, thread.threadId);
  const stop = watchStop(block);
  const client = createHttpClient(settings);
  const pause = { baseMs: settings.cooldownBaseMs, maxMs: settings.cooldownMaxMs };
  const { emit } = thread;
  const onLearned = emit === undefined ? undefined : (bucket: 'requests' | 'tokens', perMinute: number) => emit({ type: 'limit-learned', bucket, perMinute });
  const pacer = new Pacer(new RateBudget(block, settings.rateHeadroom), new LeaseCredit(block), settings.defaultAnswerTokens, settings.learnRateLimits, onLearned);
  const task: Task | null = settings.taskFile === null ? null : await loadTask(settings.taskFile);
  const taskName = task?.name ?? (settings.taskFile === null ? 'pass-through' : basename(settings.taskFile));
  if (task?.schema) await loadSchemaTools();
  const format = task?.schema ? responseFormat(task.schema, task.schemaName ?? 'answer') : null;
  const maxInvalid = task?.maxInvalidOutputRetries ?? 2;
  const cache = settings.cache === null ? null : await openCachedAnswers(settings.cache);

  /**
   * Runs one stage of the user's task code: an exception fails the item, naming the task. A stage
   * that returns a promise is raced against the item's scope (its deadline, a cancel), whose
   * signal it is given; one that returns a value has already finished, and nothing is raced.
   */
  function stageFailed(stage: string, error: unknown): ItemFailed {
    const message = error instanceof Error ? error.message : String(error);
    return new ItemFailed('task_error', `task ${taskName}: ${stage} threw: ${message}`);
  }

  function userCode<T>(stage: string, scope: TaskScope, run: () => T | Promise<T>): T | Promise<T> {
    let made: T | Promise<T>;
    let thenable: boolean;
    try {
      made = run();
      // Inside the try: reading `then` runs the value's own code (a getter that may throw).
      thenable = isThenable(made);
    } catch (error) {
      throw stageFailed(stage, error);
    }
    if (!thenable) return made;
    const work = Promise.resolve(made).catch((error: unknown) => {
      throw stageFailed(stage, error);
    });
    // `ended` one step removed, as `work` is from the stage's promise: a promise that had settled
    // when the stage returned it wins over a scope that ended meanwhile (a deadline passed while
    // the stage ran), whether or not the scope was already watching — its answer is in hand.
    const over = scope.ended.catch((why: unknown) => {
      throw why;
    });
    return Promise.race([work, over]);
  }

  /** A value of task code must cross to the main thread: fail its item, not the thread (task/cloneable.ts). */
  function sendable<T>(stage: string, value: T): T {
    const part = uncloneablePart(value);
    if (part !== null) throw new ItemFailed('task_error', `task ${taskName}: ${stage} returned a value that cannot be sent between threads: ${part}`);
    return value;
  }

  async function requestBody(item: BatchItem, endpoint: Endpoint, context: TaskContext, scope: TaskScope | null): Promise<Record<string, unknown>> {
    const build = task?.buildRequest;
    const body = build && scope !== null ? await userCode('buildRequest', scope, () => build(item.record ?? item.body ?? {}, context)) : item.body;
    if (typeof body !== 'object' || body === null) {
      throw new ItemFailed(build ? 'task_error' : 'invalid_input', build ? `task ${taskName}: buildRequest returned no object` : 'the item has no request body');
    }
    const withModel = settings.model !== null && body['model'] === undefined ? { ...body, model: settings.model } : body;
    return format ? askForSchema(withModel, endpoint, format) : withModel;
  }

  /** Before another attempt: is there still time, and is the run still going? */
  function mayRetry(clock: ItemClock, delayMs = 0): void {
    if (isStopping(block)) throw new ItemFailed('aborted', 'the run was stopped', RUN_STOPPED);
    const now = Date.now();
    // A backoff past the item's own deadline fails it now; the run's deadline ends it when it comes.
    if (now >= clock.deadline || now + delayMs >= clock.itemDeadline) throw clock.expired();
  }

  /**
   * One attempt: the cached answer when there is one (and `useCache`), else a request through the
   * gate, the pacer's reservation and the gate's last look. 'unsent' means nothing went on the wire
   * (a cooldown opened meanwhile): its reservation is given back and the caller simply goes again.
   * The attempt's tokens are counted here, so that every attempt counts, failed ones included.
   */
  async function attempt(run: ItemRun, path: string, body: Record<string, unknown>, useCache: boolean): Promise<Attempt | 'unsent'> {
    const { clock, scope, context, stats } = run;
    const hit = useCache ? (cache?.lookup(path, body) ?? null) : null;
    if (hit !== null) {
      // A cached answer's tokens were saved, not spent.
      const usage = usageFromBody(hit.body);
      if (usage) addUsage((stats.saved ??= emptyUsage()), usage);
      return { result: hit, cached: true, gen: 0, globalGen: 0, window: 0, rateLimit: null, outage: null };
    }
    // The gate and the pacer answer at once when nothing needs waiting for: an await, even of a
    // plain value, would cost a turn of the microtask queue and a promise per attempt.
    const entered = enterGate(block, slot, settings.rampJitterMs, clock);
    const gen = typeof entered === 'number' ? entered : await entered;
    // An odd global generation here means another process's cooldown reached us just now:
    // our 429s would belong to it, so they are reported as sent in the epoch it closed.
    const globalGen = Atomics.load(block.i32, I32.GLOBAL_GEN) & ~1;
    const window = ceilingWindow(block);
    let result: Exclude<CallResult, { ok: 'unsent' }>;
    let rateLimit: RateLimitReported | null = null;
    let outage: OutageReport | null = null;
    let reservation;
    try {
      const reserved = pacer.reserve(body, clock, run.endpoint, () => !gateMoved(block, gen));
      reservation = reserved instanceof Promise ? await reserved : reserved;
      if (reservation === null) return 'unsent';
      // A cooldown may have opened while we waited for the rate budget: go back to the gate.
      if (gateMoved(block, gen)) {
        pacer.cancel(reservation);
        return 'unsent';
      }
      const timeoutMs = Math.max(1, Math.min(settings.attemptTimeoutMs, clock.deadline - Date.now()));
      // The gate's last look, when the socket is ready: a cooldown that opened meanwhile, or a
      // stop this thread has not heard of yet (it learns of STOP a turn of its event loop later),
      // sends the attempt back unsent and uncounted — and the stop then ends it as aborted.
      let committed = false;
      const commit = () => {
        if (isStopping(block) || !commitAttempt(block, gen)) return false;
        committed = true;
        stats.attempts += 1;
        return true;
      };
      const call = task?.call;
      let sent: CallResult;
      if (call && scope !== null) {
        sent = commit() ? { ok: true, status: 200, requestId: null, headers: null, body: sendable('call', await userCode('call', scope, () => call(body, context))) } : { ok: 'unsent' };
      } else {
        sent = await client.post(path, body, timeoutMs, stop.cancellation, commit);
      }
      if (sent.ok === 'unsent') {
        pacer.cancel(reservation);
        return 'unsent';
      }
      // A connection that failed before its socket was ready (refused, DNS, TLS) never
      // reached the gate's last look, yet it was an attempt: count it, or an endpoint that
      // is down would be retried forever without using up maxAttempts.
      if (!committed) stats.attempts += 1;
      result = sent;
      // A 429 is reported to the cooldown while its attempt still holds its permit. Released
      // first, the permit could go at once to an attempt waiting on another thread, which would
      // find the gate still open and send its request into the very burst that answered this
      // 429: a request during the cooldown, and a stale 429 in the next wave. Reported first,
      // GEN is odd before the permit is free, and enterGate sends that attempt back to wait.
      if (!result.ok && result.failure.category === 'rate_limit') {
        const endBefore = emit ? cooldownEnd(block, gen + 1) : null;
        rateLimit = { report: reportRateLimit(block, gen, result.failure.hintMs, pause, Date.now()), endBefore };
      }
      // An outage signal too, for the same reason: a failed probe must close the gate before its
      // permit (the only one, LIMIT 1) lets a second probe out. Any other answer (a 200, a 400, a
      // 429 …) says the endpoint is up.
      const cause = result.ok ? null : outageSignal(result.failure);
      if (cause !== null && !result.ok) outage = reportOutage(block, gen, cause, result.failure.hintMs, settings.outageProbeMs, Date.now());
      else endpointAnswered(block, gen);
    } finally {
      releasePermit(block, slot);
    }
    const usage = usageFromBody(result.ok ? result.body : result.failure.body);
    if (usage) addUsage(stats.usage, usage);
    pacer.settle(reservation, usage, result.ok ? result.headers : result.failure.headers);
    return { result, cached: false, gen, globalGen, window, rateLimit, outage };
  }

  /**
   * After a failed attempt: a 429 is reported to the cooldown (and does not use up maxAttempts,
   * only maxRateLimitRetries); anything else retries after a backoff while it is retryable and
   * attempts remain. Returns whether to go again; false means the item fails with `failure`.
   */
  async function retryAfter(run: ItemRun, failure: ClassifiedFailure, tried: Attempt): Promise<boolean> {
    const { item, clock, stats } = run;
    const { gen, globalGen, rateLimit } = tried;
    if (failure.category === 'rate_limit') {
      stats.rateLimited += 1;
      // Reported by the attempt, before its permit was released — even when this item is out of
      // budget: everybody else should still pause. (A cached answer is never a 429.)
      if (emit && rateLimit) emit(rateLimitedEvent(block, thread.threadId, item.custom_id, rateLimit.report, gen, failure, rateLimit.endBefore, globalGen));
      return stats.rateLimited <= settings.maxRateLimitRetries;
    }
    const { outage } = tried;
    if (outage !== null) {
      if (outage !== 'counted') {
        // Part of an outage: back to the gate (closed until the probe), the attempt not counted.
        stats.outageFailures = (stats.outageFailures ?? 0) + 1;
        emit?.({ type: 'attempt-failed', custom_id: item.custom_id, attempt: stats.attempts, category: failure.category, status: failure.status, retry: true });
        mayRetry(clock);
        return true;
      }
      // A timeout while the endpoint answers others: too much in flight for it to answer in time.
      if (failure.category === 'timeout') {
        const lowered = ceilingAfterTimeout(block, tried.window);
        if (emit && lowered !== null && lowered.to !== lowered.from) emit({ type: 'ceiling-changed', from: lowered.from, to: lowered.to, why: 'timeouts' });
      }
    }
    const counted = stats.attempts - stats.rateLimited - stats.invalidOutputs - (stats.outageFailures ?? 0);
    const retry = isRetryable(failure.category) && counted < settings.maxAttempts;
    emit?.({ type: 'attempt-failed', custom_id: item.custom_id, attempt: stats.attempts, category: failure.category, status: failure.status, retry });
    if (!retry) return false;
    const delay = backoffMs(counted, settings.backoffBaseMs, settings.backoffMaxMs);
    mayRetry(clock, delay);
    await interruptible(sleepLong(delay), clock.interrupt);
    return true;
  }

  /**
   * The schema check of a 200's answer: the valid value, or the body to re-ask with (the model's
   * answer and the problem as feedback, more room when it was cut off), or the problem when the
   * re-asks are used up.
   */
  function checkStage(run: ItemRun, schema: NonNullable<Task['schema']>, result: Success, body: Record<string, unknown>): Checked {
    const { item, endpoint, stats } = run;
    const answer = checkAnswer(result.body, schema, endpoint);
    if (answer.ok) return { kind: 'valid', value: answer.value };
    stats.invalidOutputs += 1;
    const retry = stats.invalidOutputs <= maxInvalid;
    emit?.({ type: 'attempt-failed', custom_id: item.custom_id, attempt: stats.attempts, category: 'invalid_output', status: result.status, retry });
    if (answer.cutOff) stats.cutOff = (stats.cutOff ?? 0) + 1;
    if (!retry) return { kind: 'invalid', problem: answer.problem };
    let next = body;
    if (task?.feedbackOnInvalid ?? true) next = withFeedback(next, endpoint, answer.raw, answer.problem);
    const growth = task?.maxTokensGrowthOnCutOff ?? 1;
    if (answer.cutOff && growth > 1) next = withMoreTokens(next, growth);
    return { kind: 'reask', body: next };
  }

  /** The task's stages after a valid answer: postProcess, then score (and the item's group). */
  async function finalStages(run: ItemRun, value: unknown, success: SuccessOutcome): Promise<ItemOutcome> {
    const { item, scope, context } = run;
    const post = task?.postProcess;
    if (post && scope !== null) value = sendable('postProcess', await userCode('postProcess', scope, () => post(value, context)));
    const score = task?.score;
    if (score === undefined || scope === null) return { ...success, value };
    const record = item.record ?? item.body ?? {};
    const scored = checkScore(taskName, await userCode('score', scope, () => score(value, record)));
    return { ...success, value, score: scored, ...groupOf(record, settings.groupBy) };
  }

  return async function runItem(item: BatchItem): Promise<ItemOutcome> {
    const started = performance.now();
    const clock = startItemClock(settings, stop.subscribe);
    // Only task code gets a scope (its signal and a race against the deadline).
    const scope = task === null ? null : taskScope(clock, stop.cancellation);
    const context: TaskContext = new ItemContext(item.custom_id, scope, stop.cancel);
    const stats: ItemStats = { attempts: 0, rateLimited: 0, invalidOutputs: 0, latencyMs: 0, usage: emptyUsage() };
    // An item of an unknown url (a library caller's) is checked here, before anything is built or sent.
    const endpoint = endpointOfUrl(item.url) ?? 'chat';
    const run: ItemRun = { item, endpoint, clock, scope, context, stats };
    // The last response, kept so that a failed item still shows what the endpoint said.
    let last: { requestId: string | null; body: unknown } = { requestId: null, body: null };
    const finish = (outcome: ItemOutcome): ItemOutcome => {
      clock.dispose();
      scope?.dispose();
      stats.latencyMs = performance.now() - started;
      return outcome;
    };
    const fail = (category: ErrorCategory, message: string, code: string | null = null, status: number | null = null) =>
      finish({ ok: false, custom_id: item.custom_id, error: { category, code, status, message: redactAll(message, settings.secrets) }, ...last, stats });

    try {
      if (endpointOfUrl(item.url) === null) {
        throw new ItemFailed('invalid_input', `item ${JSON.stringify(item.custom_id)}: unsupported url ${JSON.stringify(item.url)} (expected one of ${SUPPORTED_URLS_TEXT})`);
      }
      const refused = task?.schema ? schemaEndpointProblem(endpoint) : null;
      if (refused !== null) throw new ItemFailed('invalid_input', `item ${JSON.stringify(item.custom_id)}: ${refused}`);
      let body = await requestBody(item, endpoint, context, scope);
      const path = endpointPath(item.url);
      // A body whose cached answer failed validation (re-asked without feedback) must reach the model.
      let invalidBody: Record<string, unknown> | null = null;
      for (;;) {
        mayRetry(clock);
        const tried = await attempt(run, path, body, body !== invalidBody);
        if (tried === 'unsent') continue;
        const { cached, gen } = tried;
        let { result } = tried;

        if (!result.ok) {
          const { failure } = result;
          last = { requestId: failure.requestId, body: failure.body };
          if (await retryAfter(run, failure, tried)) continue;
          return fail(failure.category, failure.message, failure.code, failure.status);
        }

        if (!cached) {
          const raised = recordSuccess(block, gen);
          if (emit && raised !== 0) emit(raisedEvent(block, raised));
          // The answer the cache holds for this request: ours, or one stored first elsewhere.
          // A body re-asked past its cached answer (invalidBody) replaces that answer.
          if (cache !== null) result = await cache.store(path, body, result, body === invalidBody);
        }
        last = { requestId: result.requestId, body: result.body };
        const success: SuccessOutcome = { ok: true, custom_id: item.custom_id, status: result.status, ...last, stats, ...(cached ? { cached: true as const } : {}) };
        if (task === null) return finish(success);

        let value: unknown = result.body;
        if (task.schema) {
          const checked = checkStage(run, task.schema, result, body);
          // The 200 and its answer stay on the result: the model's text and finish_reason are the evidence.
          if (checked.kind === 'invalid') return fail('invalid_output', checked.problem, null, result.status);
          if (checked.kind === 'reask') {
            if (cached) invalidBody = body;
            body = checked.body;
            continue;
          }
          value = checked.value;
        }
        return finish(await finalStages(run, value, success));
      }
    } catch (error) {
      if (error instanceof ItemFailed) return fail(error.category, error.message, error.failureCode);
      // A bug of ours, not a dead thread: fail this item plainly rather than reject the task,
      // which the main thread would take for a crash.
      const message = error instanceof Error ? error.message : String(error);
      return fail('transient', `batch-llm internal error: ${message}`, 'internal_error');
    }
  };
}
