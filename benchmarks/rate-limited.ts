// Rate-limited (issue 6): the simulator enforces RPM and TPM over sliding windows and answers 429
// beyond them. batch-llm — with `rpm`/`tpm` given, and with only the limits it learns from the
// x-ratelimit-* headers — and the baselines (p-limit + openai with its default retries, p-queue
// with an interval cap, bottleneck with a reservoir) run the same workload, each against a fresh
// simulator (so no client inherits another's window). Prints goodput (successful items/s) ÷ the
// limit, 429s (counted by the simulator), 429s as a share of requests, failed items, wall time,
// and batch-llm's ratios against each baseline. Prints one JSON object.
//
// Every request costs the same tokens (prompt padded to a known size, answer = max_tokens), so
// the TPM limit in requests equals the RPM limit by default: both budgets bind at once.
//
//   npx tsx benchmarks/rate-limited.ts [--quick] [--items 20000] [--rpm 6000] [--tpm 600000]
//       [--window-ms 10000] [--latency 50] [--concurrency 64] [--runs 3]
//       [--max-tokens 64] [--prompt-chars 132] [--completion-tokens <max-tokens>]
//       [--clients batch-llm,batch-llm-learned,batch-llm-no-learning,p-limit,p-queue,bottleneck]
// (--quick: 600 items, a 1 s window, one run, without the batch-llm-no-learning diagnostic.)
import { parseArgs } from 'node:util';
import type { BaselineResult } from './lib/baseline.js';
import { type BaselineId, BASELINES } from './lib/baselines.js';
import { runBatchLlm } from './lib/batch-llm.js';
import { log, printResult, ratio, round } from './lib/report.js';
import { startSimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import { chatItems, simulatorCost } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    items: { type: 'string' },
    rpm: { type: 'string', default: '6000' },
    tpm: { type: 'string', default: '600000' },
    'window-ms': { type: 'string' },
    latency: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '64' },
    'max-tokens': { type: 'string', default: '64' },
    'prompt-chars': { type: 'string', default: '132' },
    'completion-tokens': { type: 'string' },
    runs: { type: 'string' },
    clients: { type: 'string' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 600 : 20_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const rpm = Number(values.rpm);
const tpm = Number(values.tpm);
const windowMs = Number(values['window-ms'] ?? (quick ? 1000 : 10_000));
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);
const maxTokens = Number(values['max-tokens']);
const promptChars = Number(values['prompt-chars']);
// The simulator answers min(completionTokens, max_tokens) tokens; by default exactly max_tokens,
// so the usage a client sees equals what the simulator charged against TPM.
const completionTokens = Number(values['completion-tokens'] ?? maxTokens);
// The full run adds a diagnostic variant: the configured limits with learning switched off,
// which separates the pacing itself from what learning from the headers does to it.
const clientIds = (values.clients ?? `batch-llm,batch-llm-learned,${quick ? '' : 'batch-llm-no-learning,'}p-limit,p-queue,bottleneck`).split(',').filter(Boolean);

const cost = simulatorCost(promptChars, maxTokens);
const limitPerMinute = Math.min(rpm, tpm / cost);
const limit = limitPerMinute / 60; // items/s
const expectedSeconds = count / limit;

interface Sample {
  goodput: number;
  succeeded: number;
  failed: number;
  requests: number;
  rate_limited: number;
  wall_ms: number;
  cooldowns: number | null;
}

async function measure(client: string): Promise<Sample> {
  const sim = await startSimChild({ latencyMs, rpm, tpm, rateWindowMs: windowMs, completionTokens });
  try {
    const items = chatItems(count, maxTokens, promptChars);
    // Every run is bounded: a client that would take over 4× the ideal time fails the scenario.
    const boundMs = Math.max(60_000, expectedSeconds * 4000);
    let result: Pick<BaselineResult, 'succeeded' | 'failed' | 'wall_ms'> & { cooldowns?: number };
    if (client.startsWith('batch-llm')) {
      result = await runBatchLlm({
        items,
        baseURL: sim.url,
        concurrency,
        threads: 1,
        deadlineMs: boundMs,
        ...(client === 'batch-llm-learned' ? {} : { rpm, tpm }),
        // A diagnostic variant: the configured limits only, nothing learned from the headers.
        ...(client === 'batch-llm-no-learning' ? { learnRateLimits: false } : {}),
      });
    } else {
      const baseline = BASELINES[client as BaselineId];
      if (baseline === undefined) throw new Error(`unknown client ${client}`);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${client} took longer than ${boundMs} ms`)), boundMs);
      });
      try {
        result = await Promise.race([baseline.run({ baseURL: sim.url, items, concurrency, rpm }), bound]);
      } finally {
        clearTimeout(timer);
      }
    }
    const stats = await sim.stats();
    return {
      goodput: result.succeeded / (result.wall_ms / 1000),
      succeeded: result.succeeded,
      failed: result.failed,
      requests: stats.requests,
      rate_limited: stats.rateLimited,
      wall_ms: result.wall_ms,
      cooldowns: result.cooldowns ?? null,
    };
  } finally {
    await sim.stop();
  }
}

const LABELS: Record<string, string> = {
  'batch-llm': 'batch-llm (rpm + tpm)',
  'batch-llm-learned': 'batch-llm (learned limits)',
  'batch-llm-no-learning': 'batch-llm (rpm + tpm, learnRateLimits off)',
  'p-limit': BASELINES['p-limit'].name,
  'p-queue': `${BASELINES['p-queue'].name} (interval cap)`,
  bottleneck: `${BASELINES.bottleneck.name} (reservoir)`,
};

const samples = new Map<string, Sample[]>(clientIds.map((id) => [id, []]));
// Clients take turns within each run, so slow drift of the machine spreads over all of them.
for (let run = 0; run < runs; run += 1) {
  for (const id of clientIds) {
    const sample = await measure(id);
    samples.get(id)?.push(sample);
    log(
      `rate-limited run ${run + 1}/${runs} ${id}: goodput ${round(sample.goodput, 1)}/s (${round(sample.goodput / limit, 3)} of limit), ` +
        `429s ${sample.rate_limited}/${sample.requests}, failed ${sample.failed}, ${Math.round(sample.wall_ms)} ms`,
    );
  }
}

const rows = clientIds.map((id) => {
  const list = samples.get(id) ?? [];
  const goodput = median(list.map((s) => s.goodput));
  const share = median(list.map((s) => (s.requests === 0 ? 0 : (100 * s.rate_limited) / s.requests)));
  return {
    client: LABELS[id] ?? id,
    id,
    goodput_items_per_s: goodput,
    goodput_of_limit: median(list.map((s) => s.goodput / limit)),
    rate_limited: median(list.map((s) => s.rate_limited)),
    rate_limited_pct_of_requests: share,
    requests: median(list.map((s) => s.requests)),
    failed_items: median(list.map((s) => s.failed)),
    wall_s: median(list.map((s) => s.wall_ms / 1000)),
    cooldowns: list[0]?.cooldowns === null ? null : median(list.map((s) => s.cooldowns ?? 0)),
    meets_targets: id.startsWith('batch-llm') ? goodput.median / limit >= 0.95 && share.median <= 1 : null,
  };
});

const ratios = rows
  .filter((row) => row.id.startsWith('batch-llm'))
  .flatMap((ours) =>
    rows
      .filter((row) => !row.id.startsWith('batch-llm'))
      .map((base) => ({
        ours: ours.client,
        baseline: base.client,
        goodput: ratio(ours.goodput_items_per_s.median, base.goodput_items_per_s.median),
        rate_limited: ratio(ours.rate_limited.median, base.rate_limited.median),
        wall: ratio(ours.wall_s.median, base.wall_s.median),
      })),
  );

printResult('rate-limited', quick ? 'quick' : 'full', {
  items: count,
  runs,
  simulator: { rpm, tpm, rate_window_ms: windowMs, latency_ms: latencyMs, completion_tokens: completionTokens },
  workload: { concurrency, max_tokens: maxTokens, prompt_chars: promptChars, tokens_per_request: cost },
  limit_items_per_s: round(limit),
  // An empty sliding window admits a whole window's budget at once: a client that bursts at the
  // start can finish this share of the items "above" the limit, so goodput ÷ limit can exceed 1.
  first_window_burst_share: round((limit * windowMs) / 1000 / count),
  targets: 'batch-llm: goodput >= 0.95 of the limit, 429s <= 1% of requests',
  rows,
  ratios,
});
