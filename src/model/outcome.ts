// The plain data that crosses between threads. Workers never throw across the thread boundary:
// custom error classes lose their fields when structured-cloned, so an item's fate travels as one
// of these discriminated objects (modelled on zod's safeParse result) and the main thread turns it
// into typed errors (errors.ts) for library users.

import type { Endpoint } from './endpoint.js';
import { emptyUsage, type Usage } from './usage.js';

/** One request, in the OpenAI Batch request shape, or a record for a task that builds requests. */
export interface BatchItem {
  /** The item's identity; unique within a run. */
  custom_id: string;
  /** The request body (for chat completions: model, messages, …). Sent as given, or after the task's schema is added. */
  body?: Record<string, unknown> | undefined;
  /** The input record, for a task with `buildRequest` (which makes the body from it). */
  record?: Record<string, unknown> | undefined;
  /**
   * The endpoint, as an OpenAI Batch line's url: /v1/chat/completions, /v1/completions,
   * /v1/embeddings or /v1/responses; any other fails the item as invalid_input.
   * @default "/v1/chat/completions"
   */
  url?: string | undefined;
}

/** Every category, for validating user input (the type below says what each one means). */
export const ERROR_CATEGORIES = [
  'rate_limit',
  'quota',
  'auth',
  'transient',
  'timeout',
  'invalid_output',
  'bad_request',
  'invalid_input',
  'task_error',
  'worker_crash',
  'aborted',
] as const satisfies readonly ErrorCategory[];

/** Every failure is classified into exactly one category (docs/architecture.md, "Errors"). */
export type ErrorCategory =
  | 'rate_limit'
  | 'quota'
  | 'auth'
  | 'transient'
  | 'timeout'
  | 'invalid_output'
  | 'bad_request'
  | 'invalid_input'
  /** The task module's own code threw (building, parsing or post-processing). */
  | 'task_error'
  /** The worker thread running the item died (crash, out of memory) `maxAttempts` times. */
  | 'worker_crash'
  | 'aborted';

export interface ItemStats {
  /** Requests sent for this item, rate-limited ones included. */
  attempts: number;
  /** How many of those were answered with a rate limit (they have their own budget). */
  rateLimited: number;
  /** How many answers failed the task's validation and were re-asked (their own budget). */
  invalidOutputs: number;
  /** From the item's start in its thread (before the task's buildRequest) to its outcome, in ms. */
  latencyMs: number;
  /** Tokens over all attempts, failed ones included, when the response carried usage. */
  usage: Usage;
  /** Tokens of the answers the response cache gave instead of a request: saved, not spent. */
  saved?: Usage;
  /** Of the invalid answers, how many were cut off at max_tokens (finish_reason "length"). */
  cutOff?: number;
  /** The endpoint the item ran on, when it is not chat (absent: chat, or the item never ran). */
  endpoint?: Endpoint;
  /** Of the attempts, how many failed during an outage of the endpoint (they do not use up maxAttempts). */
  outageFailures?: number;
}

export interface ItemFailure {
  category: ErrorCategory;
  /** The provider's error code when it gave one (e.g. "rate_limit_exceeded"), or batch-llm's own ("run_stopped", "internal_error"). */
  code: string | null;
  /** HTTP status of the last attempt, null when none came (timeout, connection reset). */
  status: number | null;
  message: string;
}

/**
 * An item's line of the results file, made in its worker thread when the run asked for it (the
 * CLI does): JSON text with the item's input line number (which only the main thread knows) to
 * go in at `at`, and no newline. Its outcome then crosses without `body` and `value` (null and
 * absent): the main thread needs only the small fields, and writes the line as it is.
 */
export interface ReadyLine {
  text: string;
  at: number;
}

export type ItemOutcome =
  | {
      ok: true;
      custom_id: string;
      status: number;
      requestId: string | null;
      body: unknown;
      /** The task's result: postProcess's return value, else the validated answer; absent without a task. */
      value?: unknown;
      /** The task's score of the value (task.score); absent without one. */
      score?: number | boolean;
      /** The item's record field named by `groupBy`, as text; absent without `groupBy`. */
      group?: string;
      /** The answer came from the response cache, not from a request. */
      cached?: true;
      stats: ItemStats;
      line?: ReadyLine;
    }
  | {
      ok: false;
      custom_id: string;
      error: ItemFailure;
      /** The last response's request id and body, when there was a response. */
      requestId: string | null;
      body: unknown;
      stats: ItemStats;
      line?: ReadyLine;
    };

/** The outcome of an item that failed without a response of its own (never sent, or its thread gave up on it). */
export function failedOutcome(
  customId: string,
  category: ErrorCategory,
  message: string,
  code: string | null = null,
  stats: Partial<ItemStats> = {},
): ItemOutcome {
  return {
    ok: false,
    custom_id: customId,
    error: { category, code, status: null, message },
    requestId: null,
    body: null,
    stats: { attempts: 0, rateLimited: 0, invalidOutputs: 0, latencyMs: 0, usage: emptyUsage(), ...stats },
  };
}
