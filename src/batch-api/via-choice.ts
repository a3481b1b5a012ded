// `--via auto`: online or the provider's Batch API. The Batch API answers within its completion
// window (24 h) at a discount (OpenAI: half price); a run with a shorter deadline cannot wait for
// it, so it goes online. The summary reports what was chosen and what the other way would have cost.

import { formatDuration } from '../model/duration.js';

export type Via = 'online' | 'batch-api' | 'auto';
export const VIAS: readonly Via[] = ['online', 'batch-api', 'auto'];

/** The Batch API's completion window, in ms (the only one OpenAI offers). */
export const BATCH_WINDOW_MS = 24 * 3600 * 1000;

export interface ViaReport {
  chosen: 'online' | 'batch-api';
  reason: string;
  /** What the run cost (from the price table; batch tokens at the discount), null without prices. */
  cost: number | null;
  /** What the same tokens would have cost the other way, null without prices. */
  cost_other_way: number | null;
}

export function chooseVia(via: Via, deadlineMs: number | undefined): Pick<ViaReport, 'chosen' | 'reason'> {
  if (via === 'online') return { chosen: 'online', reason: '--via online' };
  if (via === 'batch-api') return { chosen: 'batch-api', reason: '--via batch-api' };
  if (deadlineMs !== undefined && deadlineMs < BATCH_WINDOW_MS) {
    return { chosen: 'online', reason: `--via auto: the deadline (${formatDuration(deadlineMs)}) is shorter than the Batch API's 24 h window` };
  }
  return { chosen: 'batch-api', reason: '--via auto: no deadline shorter than the Batch API\'s 24 h window, so the discounted way' };
}

/** The one-line account for the summary. */
export function formatVia(report: ViaReport, formatCost: (amount: number) => string, discount: number): string {
  const other = report.chosen === 'online' ? 'the Batch API' : 'online';
  const costs =
    report.cost === null || report.cost_other_way === null
      ? `give --price-input/--price-output to compare costs (the Batch API's discount: ${Math.round((1 - discount) * 100)} %)`
      : `cost ${formatCost(report.cost)}; ${other} would have cost ${formatCost(report.cost_other_way)}`;
  return `  via ${report.chosen} (${report.reason}): ${costs}`;
}
