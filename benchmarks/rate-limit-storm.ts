// 429 storm: after a warm-up at full speed, the simulator holds every request the client has in
// flight (`concurrency` of them) and then answers all of them 429 at once with a pause hint.
// batch-llm should pause everybody once (one cooldown), send nothing while it lasts, and ramp
// back to its pre-storm throughput without a herd. Measured from the simulator's own request
// records (so the simulator runs in this process with `recordRequests`; the client's work is in
// its worker threads) and batch-llm's events:
//   - requests that arrived while the cooldown was on (from the first 429 answered to the
//     cooldown's end): should be 0;
//   - time from the cooldown's end to full throughput: the first 100 ms window whose completion
//     rate is >= 90% of the pre-storm rate (the median 100 ms rate over the second half of the
//     warm-up), and the first moment the in-flight count at the simulator is back to 90% of its
//     pre-storm median.
// The warm-up items carry a scripted key (`warm-up`), which the simulator exempts from storms;
// the storm starts at the first other request. Prints one JSON object.
//
//   npx tsx benchmarks/rate-limit-storm.ts [--quick] [--warm-up 4000] [--items 4000]
//       [--concurrency 256] [--latency 50] [--hint-ms 1000] [--threads 1,2] [--runs 3]
import { parseArgs } from 'node:util';
import type { BatchEvent } from '../src/model/events.js';
import { startSimulator, type SimRequestRecord } from '../src/sim/index.js';
import { runBatchLlm } from './lib/batch-llm.js';
import { log, printResult } from './lib/report.js';
import { median } from './lib/stats.js';
import type { ChatItem } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'warm-up': { type: 'string' },
    items: { type: 'string' },
    concurrency: { type: 'string', default: '256' },
    latency: { type: 'string', default: '50' },
    'hint-ms': { type: 'string', default: '1000' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string' },
  },
});
const quick = values.quick;
const warmUp = Number(values['warm-up'] ?? (quick ? 1500 : 4000));
const count = Number(values.items ?? (quick ? 1500 : 4000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const concurrency = Number(values.concurrency);
const latencyMs = Number(values.latency);
const hintMs = Number(values['hint-ms']);
const BIN_MS = 100;
const FULL = 0.9;
const WARM_KEY = 'warm-up';

/** `warmUp` items with the storm-exempt key, then `count` ordinary ones. */
function* items(): Generator<ChatItem> {
  for (let i = 0; i < warmUp + count; i += 1) {
    const content = i < warmUp ? WARM_KEY : `item ${i}`;
    yield { custom_id: `i${i}`, body: { model: 'sim', max_tokens: 8, messages: [{ role: 'user', content }] } };
  }
}

interface Sample {
  cooldowns: number;
  sent_during_cooldown: number;
  cooldown_ms: number;
  to_full_rate_ms: number | null;
  to_full_in_flight_ms: number | null;
  pre_storm_items_per_s: number;
  pre_storm_in_flight: number;
  rate_limited: number;
  succeeded: number;
}

/** Successes answered in [t, t + BIN_MS). `answered` is sorted. */
function countIn(answered: readonly number[], t: number): number {
  let lo = 0;
  let hi = answered.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((answered[mid] ?? 0) < t) lo = mid + 1;
    else hi = mid;
  }
  let n = 0;
  for (let i = lo; i < answered.length && (answered[i] ?? Infinity) < t + BIN_MS; i += 1) n += 1;
  return n;
}

/** The simulator's in-flight count as steps: [time, count after this time], in time order. */
function inFlightSteps(records: readonly SimRequestRecord[], end: number): Array<[number, number]> {
  const deltas: Array<[number, number]> = [];
  for (const r of records) {
    deltas.push([r.arrivedAt, 1]);
    deltas.push([r.answeredAt ?? end, -1]);
  }
  deltas.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let level = 0;
  return deltas.map(([t, d]) => {
    level += d;
    return [t, level];
  });
}

async function measure(threads: number): Promise<Sample> {
  const hint = { header: 'retry-after-ms' as const, ms: hintMs };
  const sim = await startSimulator({
    latencyMs,
    recordRequests: true,
    faults: { storms: [{ holdUntilInFlight: concurrency, hint }], scripts: { [WARM_KEY]: [200] } },
  });
  const events: BatchEvent[] = [];
  let endedAt: number | undefined;
  try {
    const result = await runBatchLlm({
      items: items(),
      baseURL: sim.url,
      concurrency,
      threads,
      onEvent: (event) => {
        events.push(event);
        // On the simulator's clock (performance.timeOrigin + now), not the event's Date.now `at`:
        // the two drift apart by ms over a run. onEvent is called right after the gate opened.
        if (event.type === 'cooldown-ended' && endedAt === undefined) endedAt = performance.timeOrigin + performance.now();
      },
    });
    if (result.succeeded !== warmUp + count) throw new Error(`only ${result.succeeded} of ${count} succeeded`);
    const records = sim.requests;
    if (endedAt === undefined) throw new Error('no cooldown ended: the storm did not happen');
    const endAt: number = endedAt;
    const stormAnswers = records.filter((r) => r.cause === 'storm' && r.answeredAt !== null).map((r) => r.answeredAt ?? 0);
    const firstRateLimit = Math.min(...stormAnswers);
    const sentDuring = records.filter((r) => r.arrivedAt > firstRateLimit && r.arrivedAt < endAt).length;

    const answered = records
      .filter((r) => r.status === 200 && r.answeredAt !== null)
      .map((r) => r.answeredAt ?? 0)
      .sort((a, b) => a - b);
    const last = answered.at(-1) ?? endAt;
    // Pre-storm: the second half of the warm-up (from the first answer to the storm's first request).
    const stormStart = Math.min(...records.filter((r) => r.cause === 'storm').map((r) => r.arrivedAt));
    const warmFrom = (answered[0] ?? stormStart) + (stormStart - (answered[0] ?? stormStart)) / 2;
    const rates: number[] = [];
    for (let t = warmFrom; t + BIN_MS <= stormStart; t += BIN_MS) rates.push(countIn(answered, t));
    const prePerBin = median(rates).median;
    let toFullRate: number | null = null;
    for (let t = endAt; t + BIN_MS <= last; t += 5) {
      if (countIn(answered, t) >= FULL * prePerBin) {
        toFullRate = t - endAt;
        break;
      }
    }

    const steps = inFlightSteps(records, last);
    const preLevels = steps.filter(([t]) => t >= warmFrom && t < stormStart).map(([, level]) => level);
    const preInFlight = median(preLevels).median;
    const back = steps.find(([t, level]) => t >= endAt && level >= FULL * preInFlight);

    const opened = events.find((e) => e.type === 'cooldown-opened');
    return {
      cooldowns: result.cooldowns,
      sent_during_cooldown: sentDuring,
      cooldown_ms: opened === undefined ? Number.NaN : endAt - firstRateLimit,
      to_full_rate_ms: toFullRate,
      to_full_in_flight_ms: back === undefined ? null : back[0] - endAt,
      pre_storm_items_per_s: (prePerBin * 1000) / BIN_MS,
      pre_storm_in_flight: preInFlight,
      rate_limited: result.rate_limited,
      succeeded: result.succeeded,
    };
  } finally {
    await sim.close();
  }
}

const threadCounts = values.threads.split(',').filter(Boolean).map(Number);
const samples = new Map<number, Sample[]>(threadCounts.map((t) => [t, []]));
for (let run = 0; run < runs; run += 1) {
  for (const threads of threadCounts) {
    const s = await measure(threads);
    samples.get(threads)?.push(s);
    log(
      `rate-limit-storm ×${threads}: ${s.cooldowns} cooldown(s) of ${Math.round(s.cooldown_ms)} ms, ${s.sent_during_cooldown} sent during it, ` +
        `full rate ${s.to_full_rate_ms === null ? 'never' : Math.round(s.to_full_rate_ms)} ms after, in flight ${s.to_full_in_flight_ms === null ? 'never' : Math.round(s.to_full_in_flight_ms)} ms after ` +
        `(pre-storm ${Math.round(s.pre_storm_items_per_s)} items/s, ${s.pre_storm_in_flight} in flight), 429s ${s.rate_limited}`,
    );
  }
}

const spread = (list: Sample[], pick: (s: Sample) => number | null) => {
  const known = list.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === list.length ? median(known) : null;
};
const rows = threadCounts.map((threads) => {
  const list = samples.get(threads) ?? [];
  return {
    client: 'batch-llm',
    threads,
    cooldowns: spread(list, (s) => s.cooldowns),
    requests_sent_during_cooldown: spread(list, (s) => s.sent_during_cooldown),
    cooldown_ms: spread(list, (s) => s.cooldown_ms),
    cooldown_end_to_full_rate_ms: spread(list, (s) => s.to_full_rate_ms),
    cooldown_end_to_full_in_flight_ms: spread(list, (s) => s.to_full_in_flight_ms),
    pre_storm_items_per_s: spread(list, (s) => s.pre_storm_items_per_s),
    pre_storm_in_flight_at_simulator: spread(list, (s) => s.pre_storm_in_flight),
    rate_limited: spread(list, (s) => s.rate_limited),
  };
});

printResult('rate-limit-storm', quick ? 'quick' : 'full', {
  warm_up_items: warmUp,
  items: count,
  concurrency,
  latency_ms: latencyMs,
  hint: `retry-after-ms: ${hintMs}`,
  runs,
  full_throughput: `${FULL * 100}% of the pre-storm completion rate over a ${BIN_MS} ms window (or of the pre-storm in-flight count)`,
  targets: 'one cooldown; 0 requests sent during it',
  rows,
  note: `an answer takes ${latencyMs} ms, so the completion rate trails the sending rate by at least that`,
});
