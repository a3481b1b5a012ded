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
// Files in, files out: the pieces the CLI is built from, for programs that drive runs themselves.
export { readInput, parseLine, scanInput, SUPPORTED_URLS, type InputRecord, type InputScan } from './input.js';
export { resultLine, invalidInputLine, serializeLine, ResultFile, type ResultLine, type ResultFacts } from './output.js';
export { readCheckpoint, type Checkpoint, type RunFingerprint } from './checkpoint.js';
export { parseDuration, DurationError } from './duration.js';
export { costOf, type PriceTable } from './cost.js';
export type { AbortMode } from './stop.js';
export type { StopState } from './run-control.js';
