// Every error batch-llm throws, in one tree (after undici's core/errors.js and openai-node's
// core/error.ts): one base class with a stable string `code` to branch on, one subclass per
// kind of mistake. Messages are for people and may change; codes are for programs and do not.
//
// Failed *items* are not thrown: they travel between threads as plain data (outcome.ts) and reach
// library users as a BatchItemError, whose `code` is the provider's (see below).

import type { ErrorCategory, ItemFailure } from './outcome.js';

/** The base of every error batch-llm throws. */
export class BatchLlmError extends Error {
  override name = 'BatchLlmError';

  constructor(
    /** Stable, e.g. "ERR_BATCH_LLM_OPTIONS"; see each subclass. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** An option of runBatch / streamBatch has a value that cannot be used. */
export class OptionsError extends BatchLlmError {
  override name = 'OptionsError';
  constructor(message: string) {
    super('ERR_BATCH_LLM_OPTIONS', message);
  }
}

/** A distributed run cannot be joined or resumed: no such run, another input or task, a bad URL. */
export class DistributedRunError extends BatchLlmError {
  override name = 'DistributedRunError';
  constructor(message: string) {
    super('ERR_BATCH_LLM_DISTRIBUTED', message);
  }
}

/** A task file could not be loaded, or its default export is not made by defineTask(). */
export class TaskLoadError extends BatchLlmError {
  override name = 'TaskLoadError';
  constructor(message: string) {
    super('ERR_BATCH_LLM_TASK_LOAD', message);
  }
}

/** A duration such as "30s" could not be read. */
export class DurationError extends BatchLlmError {
  override name = 'DurationError';
  constructor(message: string) {
    super('ERR_BATCH_LLM_DURATION', message);
  }
}

/** A mistake in how the CLI was called (an option's value, a file in the way); it exits with 2. */
export class UsageError extends BatchLlmError {
  override name = 'UsageError';
  constructor(message: string) {
    super('ERR_BATCH_LLM_USAGE', message);
  }
}

/** An item was handed to the pool, or still waited to be sent, after the run had ended. */
export class DispatcherClosed extends BatchLlmError {
  override name = 'DispatcherClosed';
  constructor() {
    super('ERR_BATCH_LLM_CLOSED', 'the run has ended');
  }
}

/**
 * The `code` of an item's failure when the run was stopped (drain, cancel, a cap, fail-fast) before
 * the item was done. It crosses threads in the outcome, so the main thread can add the stop's
 * reason without reading the message.
 */
export const RUN_STOPPED = 'run_stopped';

/**
 * Ends an item early with a categorized failure. Thrown and caught inside a worker thread only:
 * the item's outcome carries `category`, `message` and `failureCode` as plain data.
 */
export class ItemFailed extends BatchLlmError {
  override name = 'ItemFailed';
  constructor(
    readonly category: ErrorCategory,
    message: string,
    /** The code the item's failure carries (e.g. RUN_STOPPED), null for none. */
    readonly failureCode: string | null = null,
  ) {
    super('ERR_BATCH_LLM_ITEM_FAILED', message);
  }
}

/**
 * A failed item's error, as library results carry it. Not a thrown error and not part of the
 * tree above: its `code` is the provider's error code (or batch-llm's own for a stopped run or an
 * internal error), and `category` is the stable field to branch on.
 */
export class BatchItemError extends Error {
  override name = 'BatchItemError';
  /** One of the error categories (docs/architecture.md), e.g. "rate_limit", "transient", "bad_request". */
  readonly category: ErrorCategory;
  /** The provider's error code when it gave one; "run_stopped" or "internal_error" for batch-llm's own. */
  readonly code: string | null;
  /** HTTP status of the last attempt, null when no response came. */
  readonly status: number | null;

  constructor(failure: ItemFailure) {
    super(failure.message);
    this.category = failure.category;
    this.code = failure.code;
    this.status = failure.status;
  }
}

/** A results file is locked by another run that is still alive (io/run-lock.ts). */
export class FileLockedError extends BatchLlmError {
  override name = 'FileLockedError';
  constructor(
    /** The lock file. */
    readonly path: string,
    readonly owner: { pid: number; host: string; since: string },
  ) {
    super('ERR_BATCH_LLM_LOCKED', `${path} is held by pid ${owner.pid} on ${owner.host} since ${owner.since}`);
  }
}
