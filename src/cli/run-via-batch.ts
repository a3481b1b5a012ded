// `batch-llm run --via batch-api | auto`: the run through the provider's Batch API
// (batch-api/batch-run.ts) with the same results file, summary and exit codes as an online run,
// plus the account of the way chosen and what the other way would have cost.

import { runViaBatchApi, type BatchApiPlan } from '../batch-api/batch-run.js';
import type { ViaReport } from '../batch-api/via-choice.js';
import { costOf, type PriceTable } from '../model/cost.js';
import { EXIT } from './exit-codes.js';
import type { StreamOutcome } from './run-stream.js';
import { runSummary, type RunSummary } from './run-summary.js';

/** OpenAI's limits per input file. */
export const BATCH_FILE_LIMITS = { maxRequests: 50_000, maxBytes: 200 * 1024 * 1024 };

export interface ViaOutcome extends StreamOutcome {
  summary: RunSummary & { via: ViaReport };
}

export async function batchApiToFile(plan: BatchApiPlan, reason: string): Promise<ViaOutcome> {
  const outcome = await runViaBatchApi(plan);
  const base = runSummary(outcome.summary, { invalid: outcome.invalid, skipped: outcome.skipped, output: plan.out, notStarted: 0, stoppedAfterLine: null });
  const prices = plan.engine.prices;
  const online = prices ? costOf(outcome.tokens.batch, prices) + costOf(outcome.tokens.online, prices) : null;
  const via: ViaReport = { chosen: 'batch-api', reason, cost: base.cost, cost_other_way: online };
  const summary = { ...base, batch_api: outcome.batch, via };
  return { summary, exitCode: summary.failed > 0 ? EXIT.failures : EXIT.ok, writeError: null, inputError: null, end: { state: 'complete' } };
}

/** The account for an online run that could have gone through the Batch API. */
export function onlineVia(reason: string, cost: number | null, prices: PriceTable | undefined, discount: number): ViaReport {
  return { chosen: 'online', reason, cost, cost_other_way: prices === undefined || cost === null ? null : cost * discount };
}
