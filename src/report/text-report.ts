// `batch-llm report` without -o: the figures of a results file (and its trace) as a few lines of text.

import { formatDuration } from '../model/duration.js';
import type { ResultsFigures } from './results-figures.js';
import type { TraceFigures } from './trace-figures.js';
import { formatNumber } from '../model/number-format.js';

export function formatCostValue(cost: number): string {
  return cost >= 100 ? cost.toFixed(0) : cost >= 1 ? cost.toFixed(2) : cost.toFixed(4);
}

/** The run's cost: the trace's last sample (the run's `prices`), or null. */
export function traceCost(trace: TraceFigures | null): number | null {
  return trace?.samples.at(-1)?.cost ?? null;
}

export function textReport(results: ResultsFigures, trace: TraceFigures | null): string {
  const { file } = results;
  const lines: string[] = [];
  const fileNotes = [
    ...(file.tornLastLine ? ['a torn last line ignored (the run was killed mid-write)'] : []),
    ...(file.unreadable > 0 ? [`${file.unreadable} unreadable line(s) skipped`] : []),
  ];
  lines.push(`${file.path}: ${formatNumber(results.items)} items from ${formatNumber(file.lines)} lines${fileNotes.length > 0 ? ` (${fileNotes.join('; ')})` : ''}`);
  const categories = results.by_category.map((c) => `${c.category} ${formatNumber(c.count)}`).join(', ');
  lines.push(`  succeeded ${formatNumber(results.succeeded)}, failed ${formatNumber(results.failed)}${categories === '' ? '' : ` (${categories})`}`);
  const end = results.run_end;
  if (end?.state === 'stopped') {
    lines.push(
      `  the run stopped (${end.reason}) after input line ${formatNumber(end.after_line)}: ` +
        `${results.not_started === null ? 'the unread rest of the input' : formatNumber(results.not_started)} not started (no line here); --resume runs them`,
    );
  }
  if (results.latency_ms !== null) {
    const l = results.latency_ms;
    lines.push(`  latency p50 ${formatDuration(l.p50)}, p90 ${formatDuration(l.p90)}, p95 ${formatDuration(l.p95)}, p99 ${formatDuration(l.p99)}, max ${formatDuration(l.max)}`);
  }
  lines.push(
    `  attempts ${formatNumber(results.attempts.total)} (${results.attempts.mean} per item, at most ${results.attempts.max}), ` +
      `429s ${formatNumber(results.rate_limited)}, re-asked invalid outputs ${formatNumber(results.invalid_outputs)}`,
  );
  const t = results.tokens;
  lines.push(`  tokens ${formatNumber(t.total)} (prompt ${formatNumber(t.prompt)}, completion ${formatNumber(t.completion)}, cached ${formatNumber(t.cached)}, reasoning ${formatNumber(t.reasoning)})`);
  // Only where it tells something: a file of chat alone has it all in the line above.
  if (results.by_endpoint.length > 1 || results.by_endpoint.some((e) => e.endpoint !== 'chat')) {
    const parts = results.by_endpoint.map((e) => `${e.endpoint} ${formatNumber(e.items)} items, ${formatNumber(e.tokens.total)} tokens`);
    lines.push(`  by endpoint: ${parts.join('; ')}`);
  }
  const cost = traceCost(trace);
  if (cost !== null) lines.push(`  cost ${formatCostValue(cost)} (the run's prices, from the trace)`);
  if (trace !== null) {
    const cooling = trace.cooldowns.reduce((sum, c) => sum + (c.to - c.from), 0);
    lines.push(`  trace: ${formatNumber(trace.cooldowns.length)} cooldowns (${formatDuration(cooling)} in all), ${formatNumber(trace.rateLimits.length)} 429s reported, ${formatNumber(trace.samples.length)} samples`);
  }
  if (results.scores !== null) {
    const s = results.scores;
    lines.push(`  scores: ${formatNumber(s.count)} scored, mean ${s.mean}`);
    for (const g of s.groups) lines.push(`    ${g.group}: ${formatNumber(g.count)} scored, mean ${g.mean}`);
  }
  if (results.first_failures.length > 0) {
    lines.push('  first failures:');
    for (const f of results.first_failures) lines.push(`    ${f.custom_id ?? '(no custom_id)'}  ${f.category}  ${f.message}`);
  }
  return lines.join('\n');
}
