// Public API of batch-llm: the run (run/), its data (model/), tasks (task/), the file formats
// the CLI is built from (io/), and runs through the provider's Batch API (batch-api/). Nothing
// else is public; docs/architecture.md maps the folders.

export { runBatch, streamBatch, type BatchStream } from './run/run-batch.js';
export { resolveOptions, type BatchOptions, type ResolvedOptions } from './run/options.js';
export type { BatchSummary } from './run/summary.js';
export type { LiveStats } from './run/live-stats.js';
export type { StopState } from './run/run-control.js';
export type { AbortMode } from './control/stop.js';
export {
  BatchLlmError,
  BatchItemError,
  DurationError,
  OptionsError,
  TaskLoadError,
  UsageError,
  RUN_STOPPED,
} from './model/errors.js';
export type { ItemResult } from './model/item-result.js';
export type { BatchEvent, RateLimitReport } from './model/events.js';
export type { BatchItem, ErrorCategory, ItemFailure, ItemOutcome, ItemStats } from './model/outcome.js';
export type { Usage } from './model/usage.js';
export { costOf, type PriceTable } from './model/cost.js';
export { parseDuration } from './model/duration.js';
export { defineTask, type Task, type TaskContext, type TaskSpec, type TaskValue } from './task/task.js';
// Files in, files out: the pieces the CLI is built from, for programs that drive runs themselves.
export { readInput, parseLine, scanInput, SUPPORTED_URLS, type InputRecord, type InputScan } from './io/input.js';
export { resultLine, invalidInputLine, serializeLine, ResultFile, type ResultLine, type ResultFacts } from './io/output.js';
export { readCheckpoint, type Checkpoint, type RunFingerprint } from './io/checkpoint.js';
// The provider's Batch API, file to file (what `batch-llm run --via batch-api` runs).
export { runViaBatchApi, type BatchApiPlan, type BatchApiOutcome } from './batch-api/batch-run.js';
export { readBatchState, type BatchState, type SubmittedPart } from './batch-api/batch-state.js';
export { chooseVia, BATCH_WINDOW_MS, type Via, type ViaReport } from './batch-api/via-choice.js';
export { coordinateBatch, runWorker, type CoordinatorOptions, type WorkerOptions, type WorkerReport } from './distributed/index.js';
