// Throughput against a latency-bound endpoint, against the Little's-law limit
// (in flight ÷ latency). The simulator runs in its own process. Prints one JSON object.
//
//   npx tsx benchmarks/latency-throughput.ts [--items 10000] [--latency 50] [--in-flight 256]
//                                             [--threads 1,2] [--runs 3]
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { BatchItem } from '../src/outcome.js';
import { runBatch } from '../src/run-batch.js';
import { spawnSim } from './lib/spawn-sim.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '10000' },
    latency: { type: 'string', default: '50' },
    'in-flight': { type: 'string', default: '256' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '3' },
  },
});
const count = Number(values.items);
const latencyMs = Number(values.latency);
const inFlight = Number(values['in-flight']);
const runs = Number(values.runs);
const limit = inFlight / (latencyMs / 1000);

function* items(): Generator<BatchItem> {
  for (let i = 0; i < count; i += 1) {
    yield { custom_id: `i${i}`, body: { model: 'sim', max_tokens: 8, messages: [{ role: 'user', content: `item ${i}` }] } };
  }
}

const sim = await spawnSim({ latencyMs });
const scenarios = [];
try {
  for (const threads of values.threads.split(',').map(Number)) {
    const rates: number[] = [];
    const cpuPerItem: number[] = [];
    const simCpuPerItem: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const cpuBefore = process.cpuUsage();
      const simCpuBefore = sim.cpuMicros();
      const started = performance.now();
      const { summary } = await runBatch({ items: items(), baseURL: sim.url, concurrency: inFlight, threads });
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      if (summary.succeeded !== count) throw new Error(`only ${summary.succeeded} of ${count} succeeded`);
      rates.push(count / seconds);
      cpuPerItem.push((cpu.user + cpu.system) / count);
      simCpuPerItem.push((sim.cpuMicros() - simCpuBefore) / count);
    }
    const itemsPerSecond = median(rates);
    const client = median(cpuPerItem);
    const server = median(simCpuPerItem);
    scenarios.push({
      threads,
      items_per_s: itemsPerSecond,
      of_littles_law_limit: Math.round((itemsPerSecond.median / limit) * 1000) / 1000,
      client_cpu_us_per_item: client,
      simulator_cpu_us_per_item: server,
      // Client and simulator share this machine's cores: this is the most items/s they can
      // reach together, whatever the latency.
      cpu_bound_items_per_s: Math.round((availableParallelism() * 1e6) / (client.median + server.median)),
    });
  }
} finally {
  await sim.stop();
}
console.log(
  JSON.stringify(
    {
      benchmark: 'latency-throughput',
      node: process.version,
      cores: availableParallelism(),
      cpu: cpus()[0]?.model,
      items: count,
      latency_ms: latencyMs,
      in_flight: inFlight,
      littles_law_limit_items_per_s: limit,
      runs,
      scenarios,
    },
    null,
    2,
  ),
);
