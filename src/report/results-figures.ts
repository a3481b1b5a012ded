// The figures of a results file (io/output.ts's lines): counts by category, latency percentiles
// and histogram, attempts, 429s, tokens (also by endpoint), the first failures with their messages, the slowest
// items, and the scores. A resumed file holds several lines for one item; as for --resume, the
// last line of each custom_id is the item's outcome, so the file is read twice: once to find
// those lines, once to count them.

import { ENDPOINTS } from '../model/endpoint.js';
import type { Usage } from '../model/usage.js';
import { addUsage, emptyUsage } from '../model/usage.js';
import { readJsonl, type JsonlTally } from './jsonl-lines.js';
import { metaPathFor, readMeta, type RunEnd } from '../io/checkpoint.js';
import { LineSet } from '../io/line-set.js';

export interface FailureExample {
  custom_id: string | null;
  category: string;
  message: string;
}

export interface ScoreFigures {
  count: number;
  mean: number;
  /** Score values (booleans as 0 / 1), for the distribution. */
  values: number[];
  /** By `batch_llm.group` (the run's --group-by field), or by the report's --group-by field of the value. */
  groups: Array<{ group: string; count: number; mean: number }>;
}

export interface ResultsFigures {
  file: JsonlTally & { path: string };
  /** How the last run on the file ended, from its meta file (`<results>.meta.json`); null when not recorded. */
  run_end: RunEnd | null;
  /**
   * Input lines with no line in the file, when the meta file records a stopped run: its input
   * lines less the distinct `batch_llm.line`s here (the count the run's summary and --resume
   * give). null when unknown.
   */
  not_started: number | null;
  items: number;
  succeeded: number;
  failed: number;
  /** Failed items by category, most first. */
  by_category: Array<{ category: string; count: number; examples: string[] }>;
  /** Over the items whose outcome is their own: `aborted` ones (ended by a stop) are left out. */
  latency_ms: { p50: number; p90: number; p95: number; p99: number; max: number; mean: number } | null;
  /** Item latencies in ms, in file order (for the histogram); aborted items left out. */
  latencies: number[];
  attempts: { total: number; mean: number; max: number };
  rate_limited: number;
  invalid_outputs: number;
  tokens: Usage;
  /**
   * Items and tokens by endpoint (`batch_llm.endpoint`, absent: chat), in the order chat,
   * completions, embeddings, responses; invalid input lines never reached one and are left out.
   */
  by_endpoint: Array<{ endpoint: string; items: number; tokens: Usage }>;
  /** The first failures in the file, with their messages. */
  first_failures: FailureExample[];
  /** The slowest items, slowest first. */
  slowest: Array<{ custom_id: string | null; latency_ms: number; attempts: number; outcome: string }>;
  scores: ScoreFigures | null;
}

const EXAMPLES_PER_CATEGORY = 3;
const FIRST_FAILURES = 5;
const SLOWEST = 10;

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function rec(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

function usageOf(value: unknown): Usage {
  const u = rec(value);
  return { prompt: num(u['prompt']), completion: num(u['completion']), total: num(u['total']), cached: num(u['cached']), reasoning: num(u['reasoning']) };
}

/** Where an endpoint goes in the by_endpoint list: the four in their order, anything else after them. */
function rank(endpoint: string): number {
  const at = (ENDPOINTS as readonly string[]).indexOf(endpoint);
  return at === -1 ? ENDPOINTS.length : at;
}

function scoreOf(value: unknown): number | null {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export async function resultsFigures(path: string, options: { groupBy?: string | undefined } = {}): Promise<ResultsFigures> {
  // Pass 1: which line is each item's last.
  const lastLine = new Map<string, number>();
  const inputLines = new LineSet();
  let index = 0;
  await readJsonl(path, (record) => {
    const id = record['custom_id'];
    if (typeof id === 'string') lastLine.set(id, index);
    const at = rec(record['batch_llm'])['line'];
    if (typeof at === 'number') inputLines.add(at);
    index += 1;
  });
  const meta = await readMeta(metaPathFor(path));
  const runEnd = meta.kind === 'found' ? (meta.meta.end ?? null) : null;
  const notStarted =
    runEnd?.state === 'stopped' && runEnd.input_lines !== null ? Math.max(0, runEnd.input_lines - inputLines.size) : runEnd?.state === 'complete' ? 0 : null;

  const byCategory = new Map<string, { count: number; examples: string[] }>();
  const latencies: number[] = [];
  const tokens = emptyUsage();
  const byEndpoint = new Map<string, { items: number; tokens: Usage }>();
  const firstFailures: FailureExample[] = [];
  let slowest: ResultsFigures['slowest'] = [];
  const scores: number[] = [];
  const groups = new Map<string, { count: number; sum: number }>();
  let items = 0;
  let succeeded = 0;
  let attempts = 0;
  let maxAttempts = 0;
  let rateLimited = 0;
  let invalidOutputs = 0;
  index = 0;
  const tally = await readJsonl(path, (record) => {
    const at = index;
    index += 1;
    const id = typeof record['custom_id'] === 'string' ? record['custom_id'] : null;
    if (id !== null && lastLine.get(id) !== at) return; // a later line has this item's outcome
    items += 1;
    const facts = rec(record['batch_llm']);
    const error = record['error'] === null || record['error'] === undefined ? null : rec(record['error']);
    const latency = num(facts['latency_ms']);
    const aborted = error !== null && error['code'] === 'aborted';
    if (!aborted) latencies.push(latency);
    const tries = num(facts['attempts']);
    attempts += tries;
    maxAttempts = Math.max(maxAttempts, tries);
    rateLimited += num(facts['rate_limited']);
    invalidOutputs += num(facts['invalid_outputs']);
    const usage = usageOf(facts['usage']);
    addUsage(tokens, usage);
    if (error?.['code'] !== 'invalid_input') {
      const endpoint = typeof facts['endpoint'] === 'string' ? facts['endpoint'] : 'chat';
      const entry = byEndpoint.get(endpoint) ?? { items: 0, tokens: emptyUsage() };
      entry.items += 1;
      addUsage(entry.tokens, usage);
      byEndpoint.set(endpoint, entry);
    }
    let outcome = 'succeeded';
    if (error === null) {
      succeeded += 1;
    } else {
      const category = typeof error['code'] === 'string' ? error['code'] : 'unknown';
      const message = typeof error['message'] === 'string' ? error['message'] : '';
      outcome = category;
      const entry = byCategory.get(category) ?? { count: 0, examples: [] };
      entry.count += 1;
      if (entry.examples.length < EXAMPLES_PER_CATEGORY && !entry.examples.includes(message)) entry.examples.push(message);
      byCategory.set(category, entry);
      if (firstFailures.length < FIRST_FAILURES) firstFailures.push({ custom_id: id, category, message });
    }
    // Keep the slowest few: a short sorted list, not every item.
    if (!aborted && (slowest.length < SLOWEST || latency > (slowest.at(-1)?.latency_ms ?? 0))) {
      slowest.push({ custom_id: id, latency_ms: latency, attempts: tries, outcome });
      slowest.sort((a, b) => b.latency_ms - a.latency_ms);
      slowest = slowest.slice(0, SLOWEST);
    }
    const score = scoreOf(facts['score']);
    if (score !== null) {
      scores.push(score);
      const field = options.groupBy;
      const raw = field === undefined ? facts['group'] : rec(facts['value'])[field];
      if (raw !== undefined && raw !== null) {
        const key = typeof raw === 'string' ? raw : JSON.stringify(raw);
        const group = groups.get(key) ?? { count: 0, sum: 0 };
        group.count += 1;
        group.sum += score;
        groups.set(key, group);
      }
    }
  });

  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = (sum: number, count: number) => (count === 0 ? 0 : Math.round((sum / count) * 1000) / 1000);
  return {
    file: { path, ...tally },
    run_end: runEnd,
    not_started: notStarted,
    items,
    succeeded,
    failed: items - succeeded,
    by_category: [...byCategory.entries()].map(([category, v]) => ({ category, ...v })).sort((a, b) => b.count - a.count),
    latency_ms:
      latencies.length === 0
        ? null
        : {
            p50: percentile(sorted, 50),
            p90: percentile(sorted, 90),
            p95: percentile(sorted, 95),
            p99: percentile(sorted, 99),
            max: sorted.at(-1) ?? 0,
            mean: mean(latencies.reduce((a, b) => a + b, 0), latencies.length),
          },
    latencies,
    attempts: { total: attempts, mean: mean(attempts, items), max: maxAttempts },
    rate_limited: rateLimited,
    invalid_outputs: invalidOutputs,
    tokens,
    by_endpoint: [...byEndpoint]
      .map(([endpoint, entry]) => ({ endpoint, ...entry }))
      .sort((a, b) => rank(a.endpoint) - rank(b.endpoint) || a.endpoint.localeCompare(b.endpoint)),
    first_failures: firstFailures,
    slowest,
    scores:
      scores.length === 0
        ? null
        : {
            count: scores.length,
            mean: mean(scores.reduce((a, b) => a + b, 0), scores.length),
            values: scores,
            groups: [...groups.entries()].map(([group, g]) => ({ group, count: g.count, mean: mean(g.sum, g.count) })).sort((a, b) => a.group.localeCompare(b.group)),
          },
  };
}
