// Latency-bound: items/s against an endpoint with a fixed latency, against the Little's-law limit
// (in flight ÷ latency), for batch-llm at 1 and 2 threads and the p-limit + openai baseline, on the
// same workload in the same run. The simulator runs in its own process; client and simulator CPU
// per item say which side the two cores are spent on. Prints one JSON object.
//
//   npx tsx benchmarks/latency-throughput.ts [--quick] [--items 10000] [--latency 50]
//       [--in-flight 64,256,1024] [--threads 1,2] [--baselines p-limit] [--runs 3]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { type BaselineId, BASELINES } from './lib/baselines.js';
import { runBatchLlm } from './lib/batch-llm.js';
import { ownCpuMicros } from './lib/cpu.js';
import { log, printResult, ratio, round } from './lib/report.js';
import { startSimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import { chatItems } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    items: { type: 'string' },
    latency: { type: 'string', default: '50' },
    'in-flight': { type: 'string', default: '64,256,1024' },
    threads: { type: 'string', default: '1,2' },
    baselines: { type: 'string', default: 'p-limit' },
    runs: { type: 'string' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 1500 : 10_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const latencyMs = Number(values.latency);
const inFlights = values['in-flight'].split(',').map(Number);
const threadCounts = values.threads.split(',').filter(Boolean).map(Number);
const baselineIds = values.baselines.split(',').filter(Boolean) as BaselineId[];

interface Sample {
  items_per_s: number;
  steady_items_per_s: number;
  client_cpu_us_per_item: number;
  simulator_cpu_us_per_item: number;
  first_result_ms: number;
}

type Spread = ReturnType<typeof median>;
interface Row {
  client: string;
  threads: number;
  in_flight: number;
  littles_law_limit: number;
  items_per_s: Spread;
  steady_items_per_s: Spread;
  of_limit: number | null;
  steady_of_limit: number | null;
  client_cpu_us_per_item: Spread;
  simulator_cpu_us_per_item: Spread;
  cpu_bound_items_per_s: number;
  first_result_ms: Spread;
}

const sim = await startSimChild({ latencyMs });
const rows: Row[] = [];
try {
  for (const inFlight of inFlights) {
    const limit = inFlight / (latencyMs / 1000);
    const clients: Array<{ client: string; threads: number; measure: () => Promise<{ succeeded: number; wall_ms: number; first_result_ms: number }> }> = [
      ...threadCounts.map((threads) => ({
        client: 'batch-llm',
        threads,
        measure: () => runBatchLlm({ items: chatItems(count, 8), baseURL: sim.url, concurrency: inFlight, threads }),
      })),
      ...baselineIds.map((id) => ({
        client: BASELINES[id].name,
        threads: 1,
        measure: () => BASELINES[id].run({ baseURL: sim.url, items: chatItems(count, 8), concurrency: inFlight }),
      })),
    ];
    for (const { client, threads, measure } of clients) {
      const samples: Sample[] = [];
      for (let run = 0; run < runs; run += 1) {
        const cpuBefore = ownCpuMicros();
        const simCpuBefore = sim.cpuMicros();
        const result = await measure();
        if (result.succeeded !== count) throw new Error(`${client}: only ${result.succeeded} of ${count} succeeded`);
        samples.push({
          items_per_s: count / (result.wall_ms / 1000),
          steady_items_per_s: (count - 1) / ((result.wall_ms - result.first_result_ms) / 1000),
          client_cpu_us_per_item: (ownCpuMicros() - cpuBefore) / count,
          simulator_cpu_us_per_item: (sim.cpuMicros() - simCpuBefore) / count,
          first_result_ms: result.first_result_ms,
        });
        const last = samples.at(-1);
        log(`latency-throughput in-flight ${inFlight} ${client} ×${threads}: ${Math.round(last?.items_per_s ?? 0)} items/s, steady ${Math.round(last?.steady_items_per_s ?? 0)}`);
      }
      const rate = median(samples.map((s) => s.items_per_s));
      const steady = median(samples.map((s) => s.steady_items_per_s));
      const clientCpu = median(samples.map((s) => s.client_cpu_us_per_item));
      const simCpu = median(samples.map((s) => s.simulator_cpu_us_per_item));
      rows.push({
        client,
        threads,
        in_flight: inFlight,
        littles_law_limit: limit,
        items_per_s: rate,
        of_limit: ratio(rate.median, limit),
        steady_items_per_s: steady,
        steady_of_limit: ratio(steady.median, limit),
        client_cpu_us_per_item: clientCpu,
        simulator_cpu_us_per_item: simCpu,
        // Client and simulator share the machine's cores: the most items/s they can reach
        // together at these CPU costs, whatever the latency.
        cpu_bound_items_per_s: Math.round((availableParallelism() * 1e6) / (clientCpu.median + simCpu.median)),
        first_result_ms: median(samples.map((s) => s.first_result_ms)),
      });
    }
  }
} finally {
  await sim.stop();
}

printResult('latency-throughput', quick ? 'quick' : 'full', {
  items: count,
  latency_ms: latencyMs,
  runs,
  rows,
  // batch-llm at its best thread count against each baseline, per in-flight level: whole runs
  // (thread start-up included), as a user waits for them.
  ratios: inFlights.map((inFlight) => {
    const ours = Math.max(...rows.filter((r) => r.in_flight === inFlight && r.client === 'batch-llm').map((r) => r.items_per_s.median));
    return {
      in_flight: inFlight,
      ...Object.fromEntries(
        rows
          .filter((r) => r.in_flight === inFlight && r.client !== 'batch-llm')
          .map((r) => [`batch-llm ÷ ${r.client}`, round(ours / r.items_per_s.median, 2)]),
      ),
    };
  }),
});
