// What travels through Redis: chunk jobs (BullMQ job data) and final outcomes (the results
// stream). Both are plain JSON; a failure's error travels as its plain fields and becomes a
// BatchItemError again at the coordinator.

import type { ItemResult } from '../model/item-result.js';
import type { BatchItem, ItemOutcome } from '../model/outcome.js';

/** One chunk job: contiguous input lines, carried whole so that no process needs the input file. */
export interface ChunkJob {
  /** 1-based input line numbers, one per item (the commit bitmap's index). */
  lines: number[];
  /** The items, as JSON, in the order of `lines`. */
  items: string[];
}

export function toOutcome(result: ItemResult): ItemOutcome {
  if (result.ok) return result;
  const { category, code, status, message } = result.error;
  return { ...result, error: { category, code, status, message } };
}

export function parseItem(text: string): BatchItem {
  const value: BatchItem = JSON.parse(text);
  return value;
}
