// The end of a CLI run in numbers: the engine's BatchSummary (which says whether and why the run
// stopped early) with the input lines that never reached the engine (invalid input) added to the
// counts, plus what resume skipped. Written as JSON with --summary, and as a few human lines on
// stderr.

import { formatDuration } from '../model/duration.js';
import { formatCost } from './progress.js';
import type { ErrorCategory } from '../model/outcome.js';
import type { BatchSummary } from '../run/summary.js';
import { formatNumber } from '../model/number-format.js';

export interface RunSummary extends BatchSummary {
  /** Items skipped because an earlier run (resumed) already succeeded with them. */
  skipped: number;
  /**
   * Input lines with no line in the results file: the run stopped before reading them (and no
   * earlier run wrote one). --resume runs them. 0 when the run read its whole input; null when
   * the count is unknown (a pipe).
   */
  not_started: number | null;
  /** The last input line the run read when it stopped before the end of its input; null when it read it all. */
  stopped_after_line: number | null;
  /** The results file. */
  output: string;
}

/** Milliseconds to 0.1 ms: more digits are noise. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The engine's summary plus `invalid` input lines, counted as failures of category invalid_input. */
export function runSummary(
  engine: BatchSummary,
  extra: { invalid: number; skipped: number; output: string; notStarted: number | null; stoppedAfterLine: number | null },
): RunSummary {
  const byCategory: Partial<Record<ErrorCategory, number>> = { ...engine.by_category };
  if (extra.invalid > 0) byCategory.invalid_input = (byCategory.invalid_input ?? 0) + extra.invalid;
  return {
    ...engine,
    total: engine.total + extra.invalid,
    failed: engine.failed + extra.invalid,
    by_category: byCategory,
    latency_ms:
      engine.latency_ms === null
        ? null
        : { p50: round(engine.latency_ms.p50), p95: round(engine.latency_ms.p95), p99: round(engine.latency_ms.p99) },
    wall_ms: Math.round(engine.wall_ms),
    skipped: extra.skipped,
    not_started: extra.notStarted,
    stopped_after_line: extra.stoppedAfterLine,
    output: extra.output,
  };
}


/** The human form, a few lines for stderr. */
export function formatRunSummary(summary: RunSummary): string {
  const categories = Object.entries(summary.by_category)
    .sort(([, a], [, b]) => b - a)
    .map(([category, count]) => `${category} ${formatNumber(count)}`)
    .join(', ');
  const lines = [
    `${summary.stopped === null ? 'done' : `stopped early (${summary.stopped.reason})`} in ${formatDuration(summary.wall_ms)}: ` +
      `${formatNumber(summary.succeeded)} succeeded, ${formatNumber(summary.failed)} failed` +
      (categories === '' ? '' : ` (${categories})`) +
      (summary.skipped > 0 ? `, ${formatNumber(summary.skipped)} skipped (already succeeded)` : '') +
      (summary.stopped_after_line === null
        ? ''
        : `, ${summary.not_started === null ? 'the rest of the input' : formatNumber(summary.not_started)} not started (input read up to line ${formatNumber(summary.stopped_after_line)})`),
    `  requests ${formatNumber(summary.requests)}, 429s ${formatNumber(summary.rate_limited)}, cooldowns ${formatNumber(summary.cooldowns)}` +
      (summary.outages > 0 ? `, outage pauses ${formatNumber(summary.outages)}` : ''),
    `  tokens ${formatNumber(summary.tokens.total)} (prompt ${formatNumber(summary.tokens.prompt)}, completion ${formatNumber(summary.tokens.completion)}` +
      `, cached ${formatNumber(summary.tokens.cached)}, reasoning ${formatNumber(summary.tokens.reasoning)})`,
  ];
  const endpoints = Object.entries(summary.by_endpoint);
  // Only where it tells something: a run of chat alone has it all in the line above.
  if (endpoints.length > 1 || (endpoints.length === 1 && summary.by_endpoint.chat === undefined)) {
    const parts = endpoints.map(
      ([endpoint, e]) =>
        `${endpoint} ${formatNumber(e.items)} items, ${formatNumber(e.tokens.total)} tokens` + (e.cost === null ? '' : `, cost ${formatCost(e.cost)}`),
    );
    lines.push(`  by endpoint: ${parts.join('; ')}`);
  }
  if (summary.cached > 0) {
    lines.push(`  cached ${formatNumber(summary.cached)} answers, ${formatNumber(summary.saved_tokens.total)} tokens saved (not sent, not counted above)`);
  }
  if (summary.cost !== null) lines.push(`  cost ${formatCost(summary.cost)} (from the --price-* options)`);
  const cap = summary.spend_cap;
  if (cap !== null) {
    const parts: string[] = [];
    if (cap.max_tokens !== null) {
      parts.push(`${formatNumber(cap.spent_tokens)} of ${formatNumber(cap.max_tokens)} tokens` + (cap.over_tokens > 0 ? `, over by ${formatNumber(cap.over_tokens)}` : ''));
    }
    if (cap.max_cost !== null && cap.spent_cost !== null) {
      parts.push(`${formatCost(cap.spent_cost)} of ${formatCost(cap.max_cost)}` + (cap.over_cost > 0 ? `, over by ${formatCost(cap.over_cost)}` : ''));
    }
    const over = cap.over_tokens > 0 || cap.over_cost > 0;
    lines.push(`  spend cap: ${parts.join('; ')} (${over ? 'over the cap: answers beyond their max_tokens, or re-asks' : 'within the cap'})`);
  }
  if (summary.latency_ms !== null) {
    const { p50, p95, p99 } = summary.latency_ms;
    lines.push(`  latency p50 ${formatDuration(p50)}, p95 ${formatDuration(p95)}, p99 ${formatDuration(p99)}`);
  }
  if (summary.scores !== null) {
    const groups = Object.entries(summary.scores.by_group).map(([group, g]) => `${group} ${g.mean} (${formatNumber(g.count)})`);
    lines.push(`  scores: ${formatNumber(summary.scores.count)} scored, mean ${summary.scores.mean}${groups.length > 0 ? `; by group: ${groups.join(', ')}` : ''}`);
  }
  lines.push(`  results in ${summary.output}`);
  if (summary.stopped !== null || summary.stopped_after_line !== null) {
    const aborted = summary.by_category.aborted ?? 0;
    lines.push(
      `  unfinished: ${formatNumber(aborted)} aborted (a line each), ` +
        `${summary.not_started === null ? 'the unread rest of the input' : formatNumber(summary.not_started)} not started (no line yet; recorded in the meta file): ` +
        'run the same command with --resume to finish them',
    );
  }
  return lines.map((line, i) => (i === 0 ? `batch-llm: ${line}` : line)).join('\n');
}
