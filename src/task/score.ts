// Scores for eval runs: what a task's `score` may return, and the record field results are
// grouped by. A score that is neither a finite number nor a boolean fails the item as task_error.

import { ItemFailed } from '../model/errors.js';

export function checkScore(taskName: string, score: unknown): number | boolean {
  if (typeof score === 'boolean' || (typeof score === 'number' && Number.isFinite(score))) return score;
  throw new ItemFailed('task_error', `task ${taskName}: score returned ${JSON.stringify(score) ?? String(score)}, expected a finite number or a boolean`);
}

/** `{ group }`: the record's `field` as text, or nothing when no field is named or the record lacks it. */
export function groupOf(record: Record<string, unknown>, field: string | null): { group?: string } {
  if (field === null) return {};
  const value = record[field];
  if (value === undefined || value === null) return {};
  return { group: typeof value === 'string' ? value : JSON.stringify(value) };
}
