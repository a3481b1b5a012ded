// Public API of batch-llm.
export { runBatch, streamBatch, type BatchStream, type ItemResult } from './run/run-batch.js';
export { resolveOptions, OptionsError, type BatchOptions, type ResolvedOptions } from './run/options.js';
export { BatchItemError } from './model/errors.js';
export type { BatchEvent } from './model/events.js';
export type { BatchSummary } from './run/summary.js';
export type { BatchItem, ErrorCategory, ItemFailure, ItemOutcome, ItemStats, Usage } from './model/outcome.js';
export type { LiveStats } from './run/live-stats.js';
export { defineTask, type Task, type TaskContext, type TaskSpec, type TaskValue } from './task/task.js';
export { TaskLoadError } from './task/task-loader.js';
// Files in, files out: the pieces the CLI is built from, for programs that drive runs themselves.
export { readInput, parseLine, scanInput, SUPPORTED_URLS, type InputRecord, type InputScan } from './io/input.js';
export { resultLine, invalidInputLine, serializeLine, ResultFile, type ResultLine, type ResultFacts } from './io/output.js';
export { readCheckpoint, type Checkpoint, type RunFingerprint } from './io/checkpoint.js';
export { parseDuration, DurationError } from './model/duration.js';
export { costOf, type PriceTable } from './model/cost.js';
export type { AbortMode } from './control/stop.js';
export type { StopState } from './run/run-control.js';
