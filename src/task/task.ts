// Task modules: what users run batches *for*. A task file's default export is made by
// defineTask(); every worker thread loads it once and runs its stages for each item — building the
// request, validating the answer against a zod schema (re-asking when it is invalid), and any
// CPU-heavy post-processing — in parallel with the network calls of the other items.

import type { z } from 'zod';

const TASK = Symbol.for('batch-llm.task');

export interface TaskContext {
  /** The item's custom_id. */
  readonly customId: string;
  /**
   * Aborted when the item's time is up (its deadline or the run's) or the run stops; pass it on
   * to whatever the stage waits for. The item does not wait for a stage's promise after that: it
   * fails at its deadline (or is aborted), whether or not the stage gives up. (A stage that
   * returns a value has already finished: its value is kept, and the deadline is next checked
   * before the item's next request.)
   */
  readonly signal: AbortSignal;
}

export interface TaskSpec<Schema extends z.ZodType, Result> {
  /** Shown in error messages. @default the task file's name */
  name?: string | undefined;
  /**
   * Builds the request body from an input record, so input lines can be plain records:
   * `{"custom_id": "…", …fields}`. The record is the whole line. Without it, each line's `body`
   * is sent as given.
   */
  buildRequest?: ((record: Record<string, unknown>, context: TaskContext) => Record<string, unknown> | Promise<Record<string, unknown>>) | undefined;
  /**
   * The answer's schema. Sent as `response_format: {type: "json_schema", json_schema: {name,
   * strict: true, schema}}` (zod's JSON Schema export); the answer's text is parsed as JSON and
   * validated against it.
   */
  schema?: Schema | undefined;
  /** `json_schema.name` in the request. @default "answer" */
  schemaName?: string | undefined;
  /** Re-asks after an invalid answer, per item; their own budget. Minimum: 0. @default 2 */
  maxInvalidOutputRetries?: number | undefined;
  /**
   * When re-asking, add the invalid answer and the validation error to the conversation so the
   * model can correct itself (else the same request is sent again). @default true
   */
  feedbackOnInvalid?: boolean | undefined;
  /**
   * When an answer was cut off at max_tokens (finish_reason "length"), the re-ask's
   * max_tokens / max_completion_tokens is this many times the last one (rounded up; only when the
   * request sets one). Counted in the result as `cut_off`. Minimum: 1. @default 1 (unchanged)
   */
  maxTokensGrowthOnCutOff?: number | undefined;
  /**
   * Replaces the HTTP call: gets the request body, returns the response body (e.g. a chat
   * completion). For endpoints that are not OpenAI-compatible HTTP, and for measuring batch-llm's
   * own overhead. What it throws fails the item as `task_error`. @default the HTTP call
   */
  call?: ((body: Record<string, unknown>, context: TaskContext) => unknown) | undefined;
  /** Work on the valid answer, in the worker thread (CPU-heavy work belongs here). Its result is the item's `value`. */
  postProcess?: ((value: z.output<Schema>, context: TaskContext) => Result | Promise<Result>) | undefined;
  /**
   * Scores the item's value against its input record (an eval: the expected answer is a field of
   * the record). A number, or a boolean (true counts 1, false 0); each result line carries it and
   * the summary gives count, mean and means by the run's `groupBy` field. @default none
   */
  score?: ((value: Result, record: Record<string, unknown>) => number | boolean | Promise<number | boolean>) | undefined;
}

/** Type-only key that carries a task's result type, so TaskValue can read it back. */
declare const RESULT: unique symbol;

export type Task<Schema extends z.ZodType = z.ZodType, Result = unknown> = TaskSpec<Schema, Result> & {
  readonly [TASK]: true;
  readonly [RESULT]?: Result;
};

/** The type of an item's `value` for a task: postProcess's result, else the schema's output. */
export type TaskValue<T> = T extends { readonly [RESULT]?: infer Result } ? Awaited<Result> : unknown;

/** Declares a task; use it as the default export of a task file. */
export function defineTask<Schema extends z.ZodType = z.ZodUnknown, Result = z.output<Schema>>(spec: TaskSpec<Schema, Result>): Task<Schema, Result> {
  return { ...spec, [TASK]: true };
}

export function isTask(value: unknown): value is Task {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TASK] === true;
}
