// Public API of batch-llm.
export { runBatch, streamBatch, type BatchStream, type ItemResult } from './run-batch.js';
export { resolveOptions, OptionsError, type BatchOptions, type ResolvedOptions } from './options.js';
export { BatchItemError } from './errors.js';
export type { BatchEvent } from './events.js';
export type { BatchSummary } from './summary.js';
export type { BatchItem, ErrorCategory, ItemFailure, ItemOutcome, ItemStats, Usage } from './outcome.js';
export type { LiveStats } from './live-stats.js';
export { defineTask, type Task, type TaskContext, type TaskSpec, type TaskValue } from './task.js';
export { TaskLoadError } from './task-loader.js';
