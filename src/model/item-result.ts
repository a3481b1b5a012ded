// One item's result as library users see it: the worker's plain outcome (outcome.ts), with a
// failure turned into a BatchItemError. The results writer (io/output.ts) and the run API
// (run/run-batch.ts) both speak this type.

import { BatchItemError } from './errors.js';
import type { ItemOutcome } from './outcome.js';

/**
 * One item's result. `Value` types a task's result: for a task file,
 * `ItemResult<TaskValue<typeof task>>` (see task/task.ts).
 */
export type ItemResult<Value = unknown> =
  | (Omit<Extract<ItemOutcome, { ok: true }>, 'value'> & { value?: Value })
  | (Omit<Extract<ItemOutcome, { ok: false }>, 'error'> & { error: BatchItemError });

export function toResult<Value>(outcome: ItemOutcome): ItemResult<Value> {
  // The worker produced `value` with the task the caller named; its type is the caller's claim.
  return outcome.ok ? (outcome as ItemResult<Value>) : { ...outcome, error: new BatchItemError(outcome.error) };
}
