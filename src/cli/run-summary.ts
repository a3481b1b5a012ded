// The end of a CLI run in numbers: the engine's BatchSummary with the input lines that never
// reached the engine (invalid input) added to the counts, plus what resume skipped and whether the
// run stopped early. Written as JSON with --summary, and as a few human lines on stderr.

import { formatDuration } from '../duration.js';
import type { ErrorCategory } from '../outcome.js';
import type { BatchSummary } from '../summary.js';

export interface RunSummary extends BatchSummary {
  /** Items skipped because an earlier run (resumed) already succeeded with them. */
  skipped: number;
  /** Why the run stopped before the end of the input, or null when it ran to the end. */
  stopped: string | null;
  /** The results file. */
  output: string;
}

/** The engine's summary plus `invalid` input lines, counted as failures of category invalid_input. */
export function runSummary(
  engine: BatchSummary,
  extra: { invalid: number; skipped: number; stopped: string | null; output: string },
): RunSummary {
  const byCategory: Partial<Record<ErrorCategory, number>> = { ...engine.by_category };
  if (extra.invalid > 0) byCategory.invalid_input = (byCategory.invalid_input ?? 0) + extra.invalid;
  return {
    ...engine,
    total: engine.total + extra.invalid,
    failed: engine.failed + extra.invalid,
    by_category: byCategory,
    wall_ms: Math.round(engine.wall_ms),
    skipped: extra.skipped,
    stopped: extra.stopped,
    output: extra.output,
  };
}

const number = new Intl.NumberFormat('en-US');

/** The human form, a few lines for stderr. */
export function formatRunSummary(summary: RunSummary): string {
  const categories = Object.entries(summary.by_category)
    .sort(([, a], [, b]) => b - a)
    .map(([category, count]) => `${category} ${number.format(count)}`)
    .join(', ');
  const lines = [
    `${summary.stopped === null ? 'done' : `stopped early (${summary.stopped})`} in ${formatDuration(summary.wall_ms)}: ` +
      `${number.format(summary.succeeded)} succeeded, ${number.format(summary.failed)} failed` +
      (categories === '' ? '' : ` (${categories})`) +
      (summary.skipped > 0 ? `, ${number.format(summary.skipped)} skipped (already succeeded)` : ''),
    `  requests ${number.format(summary.requests)}, 429s ${number.format(summary.rate_limited)}, cooldowns ${number.format(summary.cooldowns)}`,
    `  tokens ${number.format(summary.tokens.total)} (prompt ${number.format(summary.tokens.prompt)}, completion ${number.format(summary.tokens.completion)}` +
      `, cached ${number.format(summary.tokens.cached)}, reasoning ${number.format(summary.tokens.reasoning)})`,
  ];
  if (summary.latency_ms !== null) {
    const { p50, p95, p99 } = summary.latency_ms;
    lines.push(`  latency p50 ${formatDuration(p50)}, p95 ${formatDuration(p95)}, p99 ${formatDuration(p99)}`);
  }
  lines.push(`  results in ${summary.output}`);
  return lines.map((line, i) => (i === 0 ? `batch-llm: ${line}` : line)).join('\n');
}
