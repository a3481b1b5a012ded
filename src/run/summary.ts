// What a run did, in numbers: counts by outcome and category, requests, rate limits, cooldowns,
// tokens, latency percentiles, wall time. Built incrementally on the main thread.

import { I32, I64, readCount, type ControlBlock } from '../control/control-block.js';
import { costOf, type PriceTable } from '../model/cost.js';
import { ENDPOINTS, type Endpoint } from '../model/endpoint.js';
import type { StopState } from './run-control.js';
import type { ErrorCategory, ItemOutcome } from '../model/outcome.js';
import type { Usage } from '../model/usage.js';
import { addUsage, emptyUsage } from '../model/usage.js';
import type { SeriesSummary } from '../trace/series.js';
import type { SpendCapReport } from './spend-cap.js';
import { LatencySketch } from './latency-sketch.js';

export interface BatchSummary {
  total: number;
  succeeded: number;
  failed: number;
  by_category: Partial<Record<ErrorCategory, number>>;
  /** HTTP requests sent, retries and rate-limited ones included. */
  requests: number;
  /** Requests answered with a rate limit. */
  rate_limited: number;
  cooldowns: number;
  /** Outage pauses: the endpoint refused connections, answered 502/503/504 or let attempts time out, several in a row. */
  outages: number;
  tokens: Usage;
  /** Items answered from the response cache, without a request. */
  cached: number;
  /** Tokens of those cached answers: saved, not spent (not in `tokens` or `cost`). */
  saved_tokens: Usage;
  /** Cost of all tokens, from the `prices` option; null without one. */
  cost: number | null;
  /**
   * Items, tokens and cost by endpoint (chat, completions, embeddings, responses), for the
   * endpoints the run had items of; tokens and cost as in `tokens` and `cost`.
   */
  by_endpoint: Partial<Record<Endpoint, EndpointSummary>>;
  /**
   * Item latency (first gate entry to outcome) percentiles, in ms, within 1 % (run/latency-sketch.ts),
   * over the items that reached an outcome of their own: an `aborted` item's time ended with the
   * stop, not with an answer (one never started took 0 ms). null before any such item.
   */
  latency_ms: { p50: number; p95: number; p99: number } | null;
  wall_ms: number;
  /** Why and how the run stopped early; null when it ran to the end of its input. */
  stopped: StopState | null;
  /** The time series' aggregate (trace/series.ts); null until the run has ended. */
  series: SeriesSummary | null;
  /** The spend caps, what was spent and by how much it went over (0: within); null without a cap. */
  spend_cap: SpendCapReport | null;
  /** The task's scores (task.score): how many, their mean, and means by the `groupBy` field; null without scores. */
  scores: ScoreSummary | null;
}

export interface EndpointSummary {
  items: number;
  succeeded: number;
  tokens: Usage;
  cost: number | null;
}

export interface ScoreSummary {
  count: number;
  mean: number;
  /** By the `groupBy` field's value (items without it are left out); {} without groupBy. */
  by_group: Record<string, { count: number; mean: number }>;
}

function mean(sum: number, count: number): number {
  return count === 0 ? 0 : Math.round((sum / count) * 10_000) / 10_000;
}

export class SummaryBuilder {
  readonly #started = performance.now();
  readonly #block: ControlBlock;
  #total = 0;
  #succeeded = 0;
  readonly #byCategory: Partial<Record<ErrorCategory, number>> = {};
  readonly #tokens = emptyUsage();
  readonly #saved = emptyUsage();
  #cached = 0;
  readonly #byEndpoint = new Map<Endpoint, { items: number; succeeded: number; tokens: Usage }>();
  readonly #latencies = new LatencySketch();

  readonly #prices: PriceTable | undefined;
  #stopped: StopState | null = null;
  #series: SeriesSummary | null = null;
  #scores = { count: 0, sum: 0 };
  readonly #groups = new Map<string, { count: number; sum: number }>();
  #spendCap: () => SpendCapReport | null = () => null;

  constructor(block: ControlBlock, prices?: PriceTable) {
    this.#block = block;
    this.#prices = prices;
  }

  add(outcome: ItemOutcome): void {
    if (outcome.ok || outcome.error.category !== 'aborted') this.#latencies.add(outcome.stats.latencyMs);
    this.#total += 1;
    addUsage(this.#tokens, outcome.stats.usage);
    const endpoint = outcome.stats.endpoint ?? 'chat';
    let entry = this.#byEndpoint.get(endpoint);
    if (entry === undefined) {
      entry = { items: 0, succeeded: 0, tokens: emptyUsage() };
      this.#byEndpoint.set(endpoint, entry);
    }
    entry.items += 1;
    if (outcome.ok) entry.succeeded += 1;
    addUsage(entry.tokens, outcome.stats.usage);
    if (outcome.stats.saved) addUsage(this.#saved, outcome.stats.saved);
    if (outcome.ok && outcome.cached) this.#cached += 1;
    if (outcome.ok) {
      this.#succeeded += 1;
      if (outcome.score !== undefined) this.#addScore(Number(outcome.score), outcome.group);
    } else {
      const category = outcome.error.category;
      this.#byCategory[category] = (this.#byCategory[category] ?? 0) + 1;
    }
  }

  setStopped(stopped: StopState | null): void {
    this.#stopped = stopped;
  }

  reportSpendCap(report: () => SpendCapReport | null): void {
    this.#spendCap = report;
  }

  #addScore(score: number, group: string | undefined): void {
    this.#scores.count += 1;
    this.#scores.sum += score;
    if (group === undefined) return;
    const entry = this.#groups.get(group) ?? { count: 0, sum: 0 };
    entry.count += 1;
    entry.sum += score;
    this.#groups.set(group, entry);
  }

  setSeries(series: SeriesSummary): void {
    this.#series = series;
  }

  /** Running counts, cheap enough to read many times a second. */
  counts(): { done: number; succeeded: number; tokens: Usage; cost: number | null } {
    const cost = this.#prices ? costOf(this.#tokens, this.#prices) : null;
    return { done: this.#total, succeeded: this.#succeeded, tokens: this.#tokens, cost };
  }

  build(): BatchSummary {
    const latencies = this.#latencies;
    const { i32 } = this.#block;
    return {
      total: this.#total,
      succeeded: this.#succeeded,
      failed: this.#total - this.#succeeded,
      by_category: { ...this.#byCategory },
      requests: readCount(this.#block, I64.REQUESTS),
      rate_limited: readCount(this.#block, I64.RATE_LIMITED),
      cooldowns: Atomics.load(i32, I32.COOLDOWNS),
      outages: Atomics.load(i32, I32.OUTAGES),
      tokens: { ...this.#tokens },
      cached: this.#cached,
      saved_tokens: { ...this.#saved },
      cost: this.#prices ? costOf(this.#tokens, this.#prices) : null,
      by_endpoint: Object.fromEntries(
        [...this.#byEndpoint].sort(([a], [b]) => ENDPOINTS.indexOf(a) - ENDPOINTS.indexOf(b)).map(([endpoint, entry]) => [
          endpoint,
          { items: entry.items, succeeded: entry.succeeded, tokens: { ...entry.tokens }, cost: this.#prices ? costOf(entry.tokens, this.#prices) : null },
        ]),
      ),
      latency_ms:
        this.#latencies.count === 0
          ? null
          : { p50: latencies.percentile(50), p95: latencies.percentile(95), p99: latencies.percentile(99) },
      wall_ms: performance.now() - this.#started,
      stopped: this.#stopped,
      series: this.#series,
      spend_cap: this.#spendCap(),
      scores:
        this.#scores.count === 0
          ? null
          : {
              count: this.#scores.count,
              mean: mean(this.#scores.sum, this.#scores.count),
              by_group: Object.fromEntries([...this.#groups].sort(([a], [b]) => a.localeCompare(b)).map(([g, e]) => [g, { count: e.count, mean: mean(e.sum, e.count) }])),
            },
    };
  }
}
