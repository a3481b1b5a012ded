// What a Batch API run has submitted, kept under `batch_api` in `<out>.meta.json` next to the
// run's fingerprint, so that `--resume` after a crash re-attaches to the provider's batches
// instead of submitting (and paying for) them again. Written atomically (temporary file renamed
// over the old one) after every change: a batch id is on disk before anything waits on it.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { isRecord } from '../model/records.js';

/** One submitted part: an uploaded input file and the batch that runs it. */
export interface SubmittedPart {
  /** Submission round: 1 for the first, one more for each resubmission of expired / failed lines. */
  round: number;
  model: string;
  /** The batch's endpoint, when it is not /v1/chat/completions (absent in states from before). */
  url?: string;
  lines: number;
  input_file_id: string;
  batch_id: string;
  /** Its results are in the results file (written once, never again on resume). */
  collected: boolean;
}

export interface BatchState {
  /** Submission rounds begun. */
  rounds: number;
  parts: SubmittedPart[];
}

export function emptyState(): BatchState {
  return { rounds: 0, parts: [] };
}

function isPart(value: unknown): value is SubmittedPart {
  return (
    isRecord(value) &&
    typeof value['round'] === 'number' &&
    typeof value['model'] === 'string' &&
    typeof value['lines'] === 'number' &&
    typeof value['input_file_id'] === 'string' &&
    typeof value['batch_id'] === 'string' &&
    typeof value['collected'] === 'boolean'
  );
}

/** The state in `metaPath`, or null when there is none (no file, or a run that never used the Batch API). */
export async function readBatchState(metaPath: string): Promise<BatchState | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(metaPath, 'utf8'));
  } catch {
    return null;
  }
  const state = isRecord(value) ? value['batch_api'] : undefined;
  if (!isRecord(state) || typeof state['rounds'] !== 'number' || !Array.isArray(state['parts'])) return null;
  return { rounds: state['rounds'], parts: state['parts'].filter(isPart) };
}

/** Writes `state` into `metaPath`, keeping everything else the file holds (the fingerprint). */
export async function writeBatchState(metaPath: string, state: BatchState): Promise<void> {
  let meta: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(await readFile(metaPath, 'utf8'));
    if (isRecord(value)) meta = value;
  } catch {
    // No meta file yet (library use without the CLI): the state alone.
  }
  const temporary = `${metaPath}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...meta, batch_api: state }, null, 2)}\n`);
  await rename(temporary, metaPath);
}
