// What the trace costs: the latency-bound scenario (a fixed-latency simulator in its own
// process) with the trace off and on, runs interleaved side by side so load drifts hit both.
// Target: trace on within 5 % of trace off in items/s. Prints one JSON object.
//
//   npx tsx benchmarks/trace-overhead.ts [--items 5000] [--latency 50] [--in-flight 256] [--threads 2] [--runs 3]
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBatchLlm } from './lib/batch-llm.js';
import { log, printResult, round } from './lib/report.js';
import { startSimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import { chatItems } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '5000' },
    latency: { type: 'string', default: '50' },
    'in-flight': { type: 'string', default: '256' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
  },
});
const count = Number(values.items);
const inFlight = Number(values['in-flight']);
const threads = Number(values.threads);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-trace-bench-'));

const sim = await startSimChild({ latencyMs: Number(values.latency) });
const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
let traceBytes = 0;
try {
  for (let run = 0; run < runs; run += 1) {
    for (const mode of run % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const trace = join(dir, `trace-${run}.jsonl`);
      const result = await runBatchLlm({
        items: chatItems(count, 8),
        baseURL: sim.url,
        concurrency: inFlight,
        threads,
        ...(mode === 'on' ? { trace } : {}),
      });
      if (result.succeeded !== count) throw new Error(`trace ${mode}: only ${result.succeeded} of ${count} succeeded`);
      const rate = count / (result.wall_ms / 1000);
      rates[mode].push(rate);
      if (mode === 'on') traceBytes = statSync(trace).size;
      log(`trace-overhead run ${run} trace ${mode}: ${Math.round(rate)} items/s`);
    }
  }
} finally {
  await sim.stop();
}
const off = median(rates.off);
const on = median(rates.on);
printResult('trace-overhead', 'full', {
  items: count,
  latency_ms: Number(values.latency),
  in_flight: inFlight,
  threads,
  runs,
  trace_off_items_per_s: off,
  trace_on_items_per_s: on,
  on_of_off: round(on.median / off.median, 3),
  trace_bytes: traceBytes,
});
