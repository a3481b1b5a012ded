// `batch-llm report -o report.html`: one self-contained page — no network at view time. The
// tables are rendered here; the charts are drawn in the page by uPlot, whose script and stylesheet
// are inlined from the installed package (pinned in package.json).
//
// Why uPlot: it is made for time series (the timeline is most of this page), draws thousands of
// points on a canvas quickly, is ~50 KB minified with no dependencies (Chart.js is ~200 KB,
// ECharts ~1 MB, each inlined into every report), is MIT-licensed and actively maintained. Bars
// (histograms) come with it (uPlot.paths.bars). Cooldown bands and 429 marks are plain elements
// in its overlay, placed with its own value-to-pixel mapping, so they stay true on resize and
// can be counted in a test.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatDuration } from '../model/duration.js';
import type { ResultsFigures } from './results-figures.js';
import { formatCostValue, traceCost } from './text-report.js';
import type { TraceFigures } from './trace-figures.js';

const require = createRequire(import.meta.url);

function uplotAssets(): { script: string; style: string } {
  const entry = require.resolve('uplot');
  // The package's main entry is dist/uPlot.cjs.js; its browser build and stylesheet sit beside it.
  const dist = entry.slice(0, entry.lastIndexOf('/'));
  return { script: readFileSync(`${dist}/uPlot.iife.min.js`, 'utf8'), style: readFileSync(`${dist}/uPlot.min.css`, 'utf8') };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** JSON safe inside a <script> element: no `</script>`, no `<!--`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function table(head: readonly string[], rows: ReadonlyArray<readonly unknown[]>, className = ''): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  return `<table class="${className}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${esc(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Equal-width bins over [0, max]: what the histograms draw. */
export function histogram(values: readonly number[], bins: number): { starts: number[]; counts: number[]; width: number } {
  if (values.length === 0) return { starts: [], counts: [], width: 0 };
  const min = Math.min(0, ...values);
  const max = Math.max(...values);
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const bin = Math.min(bins - 1, Math.floor((v - min) / width));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { starts: counts.map((_, i) => min + i * width), counts, width };
}

function chartData(results: ResultsFigures, trace: TraceFigures | null): unknown {
  const latency = histogram(results.latencies, 30);
  const scores = results.scores === null ? null : histogram(results.scores.values, Math.min(20, new Set(results.scores.values).size > 2 ? 20 : 2));
  let timeline = null;
  if (trace !== null && trace.samples.length > 0) {
    const x: number[] = [];
    const throughput: number[] = [];
    const inFlight: number[] = [];
    const limit: number[] = [];
    const tokens: number[] = [];
    let previous = { t: 0, done: 0 };
    for (const s of trace.samples) {
      const dt = (s.t - previous.t) / 1000;
      x.push(s.t / 1000);
      throughput.push(dt > 0 ? Math.round(((s.done - previous.done) / dt) * 10) / 10 : 0);
      inFlight.push(s.inFlight);
      limit.push(s.limit);
      tokens.push(s.tokens);
      previous = { t: s.t, done: s.done };
    }
    timeline = {
      x,
      throughput,
      inFlight,
      limit,
      tokens,
      cooldowns: trace.cooldowns.map((c) => ({ gen: c.gen, from: c.from / 1000, to: c.to / 1000 })),
      rateLimits: trace.rateLimits.map((r) => ({ t: r.t / 1000, report: r.report })),
    };
  }
  return {
    timeline,
    latency: { x: latency.starts, y: latency.counts, width: latency.width },
    outcomes: [{ category: 'succeeded', count: results.succeeded }, ...results.by_category.map((c) => ({ category: c.category, count: c.count }))],
    scores: scores === null ? null : { x: scores.starts, y: scores.counts },
  };
}

// Runs in the page. Plain ES2020, no build step; `uPlot` is the inlined library's global.
const PAGE_SCRIPT = String.raw`
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const charts = {};
  const width = () => Math.min(1100, document.body.clientWidth - 40);
  const bars = uPlot.paths.bars({ size: [0.9, 80] });

  function placeOverlay(u, items, className, place) {
    for (const old of u.over.querySelectorAll('.' + className)) old.remove();
    for (const item of items) {
      const el = document.createElement('div');
      el.className = className;
      place(el, item);
      u.over.appendChild(el);
    }
  }

  if (data.timeline) {
    const tl = data.timeline;
    const drawMarks = (u) => {
      placeOverlay(u, tl.cooldowns, 'cooldown-band', (el, c) => {
        const left = u.valToPos(c.from, 'x');
        const right = u.valToPos(c.to, 'x');
        el.style.left = left + 'px';
        el.style.width = Math.max(2, right - left) + 'px';
        el.title = 'cooldown ' + c.gen + ': ' + (c.to - c.from).toFixed(2) + ' s';
      });
      placeOverlay(u, tl.rateLimits.slice(0, 5000), 'rl-mark', (el, r) => {
        el.style.left = u.valToPos(r.t, 'x') + 'px';
        el.classList.add('rl-' + r.report);
        el.title = '429 ' + r.report + ' at ' + r.t.toFixed(3) + ' s';
      });
    };
    charts.timeline = new uPlot({
      title: 'Throughput and in flight (cooldowns shaded, 429s marked on top)',
      width: width(), height: 320,
      scales: { x: { time: false }, n: {} },
      axes: [{ label: 'seconds since start' }, { label: 'items/s' }, { side: 1, scale: 'n', label: 'attempts', grid: { show: false } }],
      series: [
        { label: 't (s)' },
        { label: 'items/s', stroke: '#1f77b4', width: 2 },
        { label: 'in flight', stroke: '#ff7f0e', scale: 'n' },
        { label: 'limit', stroke: '#2ca02c', scale: 'n', dash: [5, 5] },
      ],
      hooks: { draw: [drawMarks] },
    }, [tl.x, tl.throughput, tl.inFlight, tl.limit], document.getElementById('chart-timeline'));
    charts.tokens = new uPlot({
      title: 'Tokens so far',
      width: width(), height: 200,
      scales: { x: { time: false } },
      axes: [{ label: 'seconds since start' }, { label: 'tokens' }],
      series: [{ label: 't (s)' }, { label: 'tokens', stroke: '#9467bd', fill: 'rgba(148,103,189,0.15)' }],
    }, [tl.x, tl.tokens], document.getElementById('chart-tokens'));
  }

  charts.latency = new uPlot({
    title: 'Item latency (ms)',
    width: width(), height: 260,
    scales: { x: { time: false } },
    axes: [{ label: 'latency from (ms)' }, { label: 'items' }],
    series: [{ label: 'from (ms)' }, { label: 'items', fill: 'rgba(31,119,180,0.6)', stroke: '#1f77b4', paths: bars, points: { show: false } }],
  }, [data.latency.x, data.latency.y], document.getElementById('chart-latency'));

  const categories = data.outcomes.map((o) => o.category);
  charts.outcomes = new uPlot({
    title: 'Outcomes',
    width: width(), height: 240,
    scales: { x: { time: false, range: [-0.5, categories.length - 0.5] } },
    axes: [{ values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? categories[v] || '' : '')), incrs: [1] }, { label: 'items' }],
    series: [{ label: 'category', value: (u, v) => (v == null ? '' : categories[v]) }, { label: 'items', fill: 'rgba(44,160,44,0.6)', stroke: '#2ca02c', paths: bars, points: { show: false } }],
  }, [categories.map((_, i) => i), data.outcomes.map((o) => o.count)], document.getElementById('chart-outcomes'));

  if (data.scores) {
    charts.scores = new uPlot({
      title: 'Score distribution',
      width: width(), height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'score from' }, { label: 'items' }],
      series: [{ label: 'score from' }, { label: 'items', fill: 'rgba(214,39,40,0.55)', stroke: '#d62728', paths: bars, points: { show: false } }],
    }, [data.scores.x, data.scores.y], document.getElementById('chart-scores'));
  }
  window.batchLlmReport = { charts: charts, cooldowns: data.timeline ? data.timeline.cooldowns.length : 0 };
})();
`;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 20px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 6px 0; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.msg, .examples td:last-child { max-width: 700px; word-break: break-word; }
.none { color: #888; } .note { color: #666; }
.cooldown-band { position: absolute; top: 0; bottom: 0; background: rgba(214, 39, 40, 0.16); border-left: 1px solid rgba(214,39,40,0.5); pointer-events: none; }
.rl-mark { position: absolute; top: 0; width: 1px; height: 9px; background: #d62728; pointer-events: none; }
.rl-stale { background: #7f7f7f; }
`;

export function htmlReport(results: ResultsFigures, trace: TraceFigures | null): string {
  const { script, style } = uplotAssets();
  const l = results.latency_ms;
  const cost = traceCost(trace);
  const overview: Array<[string, unknown]> = [
    ['items', `${results.items} (${results.succeeded} succeeded, ${results.failed} failed)`],
    ...(results.run_end?.state === 'stopped'
      ? [['not started', `${results.not_started ?? 'the unread rest of the input'} (the run stopped after input line ${results.run_end.after_line}: ${results.run_end.reason}; --resume runs them)`] as [string, unknown]]
      : []),
    ['latency', l === null ? 'none' : `p50 ${formatDuration(l.p50)}, p95 ${formatDuration(l.p95)}, p99 ${formatDuration(l.p99)}, max ${formatDuration(l.max)}`],
    ['attempts', `${results.attempts.total} (${results.attempts.mean} per item, at most ${results.attempts.max})`],
    ['429s', results.rate_limited],
    ['cooldowns', trace === null ? 'no trace given (run with --trace FILE, then report --trace FILE)' : trace.cooldowns.length],
  ];
  if (results.file.tornLastLine) overview.push(['results file', 'its last line was torn (a killed run); ignored']);
  const tokens = results.tokens;
  const settings = trace?.settings ?? null;
  const sections = [
    `<h1>batch-llm report: ${esc(results.file.path)}</h1>`,
    table(['', ''], overview, 'overview'),
    `<h2>Timeline</h2>${trace === null || trace.samples.length === 0 ? '<p class="none">No trace with samples: run with --trace FILE and pass it with --trace.</p>' : '<div id="chart-timeline"></div><div id="chart-tokens"></div>'}`,
    trace !== null && trace.cooldowns.length > 0
      ? table(
          ['cooldown', 'from (s)', 'to (s)', 'lasted', 'opened by', 'hint', 'waiting at its end'],
          trace.cooldowns.map((c) => [c.gen, (c.from / 1000).toFixed(3), (c.to / 1000).toFixed(3), formatDuration(c.to - c.from), c.openedBy ?? '', c.hintMs === null ? (c.hintSource ?? '') : `${c.hintMs} ms (${c.hintSource ?? ''})`, c.ended ? (c.waiting ?? '') : 'still open at the end of the trace']),
        )
      : '',
    trace !== null && trace.notes.length > 0 ? table(['at (s)', 'event'], trace.notes.map((n) => [(n.t / 1000).toFixed(3), n.text])) : '',
    '<h2>Latency</h2><div id="chart-latency"></div>',
    '<h2>Outcomes</h2><div id="chart-outcomes"></div>',
    table(['category', 'items', 'example messages'], results.by_category.map((c) => [c.category, c.count, c.examples.join(' | ')]), 'examples'),
    '<h2>Tokens and cost</h2>',
    table(['prompt', 'completion', 'cached', 'reasoning', 'total', 'cost'], [[tokens.prompt, tokens.completion, tokens.cached, tokens.reasoning, tokens.total, cost === null ? 'no prices (run with --price-input/--price-output and --trace)' : formatCostValue(cost)]]),
    results.scores === null
      ? ''
      : `<h2>Scores</h2><p>${results.scores.count} scored, mean ${results.scores.mean}</p><div id="chart-scores"></div>${table(['group', 'scored', 'mean'], results.scores.groups.map((g) => [g.group, g.count, g.mean]))}`,
    '<h2>Slowest items</h2>',
    table(['custom_id', 'latency', 'attempts', 'outcome'], results.slowest.map((s) => [s.custom_id ?? '', formatDuration(s.latency_ms), s.attempts, s.outcome])),
    '<h2>Run settings</h2>',
    settings === null ? '<p class="none">No trace given: the settings are recorded in the trace.</p>' : table(['setting', 'value'], Object.entries(settings).map(([k, v]) => [k, v ?? ''])),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>batch-llm report</title>
<style>${style}</style><style>${STYLE}</style></head>
<body>
${sections.join('\n')}
<script id="report-data" type="application/json">${scriptJson(chartData(results, trace))}</script>
<script>${script}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
