// CPU-heavy post-processing in the worker threads: items/s at 1 thread versus N threads, and the
// speed-up against the ideal N. The simulator runs in its own process. Prints one JSON object.
//
//   npx tsx benchmarks/cpu-postprocess.ts [--items 600] [--threads 1,2] [--runs 3]
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { BatchItem } from '../src/outcome.js';
import { streamBatch } from '../src/run-batch.js';
import { spawnSim } from './lib/spawn-sim.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '600' },
    threads: { type: 'string', default: `1,${availableParallelism()}` },
    runs: { type: 'string', default: '3' },
  },
});
const count = Number(values.items);
const runs = Number(values.runs);
const task = new URL('./tasks/cpu-heavy.ts', import.meta.url).pathname;

function* items(): Generator<BatchItem> {
  for (let i = 0; i < count; i += 1) yield { custom_id: `i${i}`, body: { model: 'sim', messages: [{ role: 'user', content: `doc ${i}` }] } };
}

const sim = await spawnSim({ latencyMs: 5 });
const rows: Array<{ threads: number; items_per_s: ReturnType<typeof median>; first_result_ms: ReturnType<typeof median> }> = [];
try {
  for (const threads of values.threads.split(',').map(Number)) {
    const rates: number[] = [];
    const startups: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      // Steady state: from the first result to the last, so thread start-up (loading tsx and
      // the task in each new thread) is reported apart from throughput.
      const started = performance.now();
      let first = 0;
      const stream = streamBatch({ items: items(), baseURL: sim.url, task, threads, concurrency: 64 });
      for await (const result of stream) {
        if (!result.ok) throw new Error(`${result.custom_id} failed: ${result.error.message}`);
        if (first === 0) first = performance.now();
      }
      rates.push((count - 1) / ((performance.now() - first) / 1000));
      startups.push(first - started);
    }
    rows.push({ threads, items_per_s: median(rates), first_result_ms: median(startups) });
  }
} finally {
  await sim.stop();
}
const base = rows[0]?.items_per_s.median ?? Number.NaN;
console.log(
  JSON.stringify(
    {
      benchmark: 'cpu-postprocess',
      node: process.version,
      cores: availableParallelism(),
      cpu: cpus()[0]?.model,
      items: count,
      runs,
      target: 'speed-up >= 0.8 x threads (threads <= cores)',
      scenarios: rows.map((row) => ({
        ...row,
        speed_up: Math.round((row.items_per_s.median / base) * 100) / 100,
        of_ideal: Math.round((row.items_per_s.median / base / (row.threads / (rows[0]?.threads ?? 1))) * 100) / 100,
      })),
    },
    null,
    2,
  ),
);
