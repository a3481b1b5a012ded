// Framework overhead: a task whose `call` returns a canned chat completion at once (no HTTP), so
// items/s and CPU µs per item are batch-llm's own costs — admission, dispatch into the Piscina pool,
// the attempt loop in the worker, the outcome cloned back, the summary. process.cpuUsage() covers
// every thread of the process. For reference, the same canned answer through a bare p-limit loop on
// one thread (no pool, no retries, no threads): the floor of a promise-per-item design.
// The library runs from source under tsx (comparable with earlier passes); tsx in a process
// costs it 12–55 % more CPU per item, mostly on the main thread (benchmarks/README.md, "Seventh
// pass"). The built CLI runs as users run it: `batch-llm run` from dist/ (built first) in a plain
// `node` process of its own, over a JSONL file, with the same answer from a JavaScript task
// (tasks/instant.mjs), writing a results file; its steady items/s run from its first results
// line to its exit. Prints one JSON object.
//
//   npx tsx benchmarks/framework-overhead.ts [--quick] [--items 200000] [--threads 1,2]
//       [--concurrency 1024] [--runs 3] [--no-cli]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { runBatchLlm } from './lib/batch-llm.js';
import { runCliChild } from './lib/cli-child.js';
import { ownCpuMicros } from './lib/cpu.js';
import { log, printResult, ratio } from './lib/report.js';
import { median } from './lib/stats.js';
import { cannedCompletion, chatItems, writeChatInput } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    items: { type: 'string' },
    threads: { type: 'string', default: '1,2' },
    concurrency: { type: 'string', default: '1024' },
    runs: { type: 'string' },
    'no-cli': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 50_000 : 200_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const concurrency = Number(values.concurrency);
const task = new URL('./tasks/instant.ts', import.meta.url).pathname;
const cliTask = new URL('./tasks/instant.mjs', import.meta.url).pathname;
// Issue #12: at 2 threads, 150k items/s (a bare p-limit loop does ~180k on this machine).
const TARGET = 150_000;

interface Sample {
  items_per_s: number;
  steady_items_per_s: number;
  cpu_us_per_item: number;
  /** CPU µs per item by thread kind, and the main thread's event-loop utilization. */
  main_us_per_item?: number;
  pool_threads_us_per_item?: number;
  helper_threads_us_per_item?: number;
  main_elu?: number;
}

async function batchLlm(threads: number): Promise<Sample> {
  const cpu = ownCpuMicros();
  // The base URL is never dialled: the task's `call` answers every request.
  const sampleAt = count - concurrency;
  const result = await runBatchLlm({ items: chatItems(count, 8), baseURL: 'http://127.0.0.1:9/v1', task, threads, concurrency }, sampleAt);
  if (result.succeeded !== count) throw new Error(`only ${result.succeeded} of ${count} succeeded`);
  const split = result.threads;
  return {
    items_per_s: count / (result.wall_ms / 1000),
    steady_items_per_s: (count - 1) / ((result.wall_ms - result.first_result_ms) / 1000),
    cpu_us_per_item: (ownCpuMicros() - cpu) / count,
    ...(split === undefined
      ? {}
      : {
          main_us_per_item: (split.main_ms * 1000) / (sampleAt - 1),
          pool_threads_us_per_item: (split.new_threads_ms * 1000) / (sampleAt - 1),
          helper_threads_us_per_item: (split.helpers_ms * 1000) / (sampleAt - 1),
          main_elu: split.main_elu,
        }),
  };
}

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-framework-overhead-'));
const input = join(dir, 'input.jsonl');

/** The built CLI in a process of its own; the base URL is never dialled (the task's `call` answers). */
async function batchLlmCli(threads: number): Promise<Sample> {
  const run = await runCliChild(root, input, join(dir, 'out.jsonl'), ['--base-url', 'http://127.0.0.1:9/v1', '--task', cliTask, '--threads', String(threads), '--concurrency', String(concurrency)]);
  return {
    items_per_s: count / (run.wallMs / 1000),
    steady_items_per_s: count / ((run.wallMs - run.firstOutputMs) / 1000),
    cpu_us_per_item: run.cpuMicros / count,
  };
}

async function pLimitLoop(): Promise<Sample> {
  const completion = cannedCompletion();
  const limit = pLimit(concurrency);
  const cpu = ownCpuMicros();
  const started = performance.now();
  await limit.map(chatItems(count, 8), async () => completion);
  const seconds = (performance.now() - started) / 1000;
  return { items_per_s: count / seconds, steady_items_per_s: count / seconds, cpu_us_per_item: (ownCpuMicros() - cpu) / count };
}

const threadCounts = values.threads.split(',').map(Number);
const withCli = !values['no-cli'];
if (withCli) {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  writeChatInput(input, count, 8);
}
const clients: Array<{ client: string; threads: number; measure: () => Promise<Sample> }> = [
  ...threadCounts.map((threads) => ({ client: 'batch-llm', threads, measure: () => batchLlm(threads) })),
  ...(withCli ? threadCounts.map((threads) => ({ client: 'batch-llm CLI (built)', threads, measure: () => batchLlmCli(threads) })) : []),
  { client: 'p-limit loop (no pool, reference)', threads: 1, measure: pLimitLoop },
];
const samples = new Map<(typeof clients)[number], Sample[]>(clients.map((c) => [c, []]));
for (let run = 0; run < runs; run += 1) {
  for (const c of clients) {
    const sample = await c.measure();
    samples.get(c)?.push(sample);
    log(
      `framework-overhead ${c.client} ×${c.threads}: ${Math.round(sample.items_per_s)} items/s (steady ${Math.round(sample.steady_items_per_s)}), ` +
        `${sample.cpu_us_per_item.toFixed(1)} CPU µs/item (main ${sample.main_us_per_item?.toFixed(1) ?? '-'}, pool ${sample.pool_threads_us_per_item?.toFixed(1) ?? '-'}, ` +
        `helpers ${sample.helper_threads_us_per_item?.toFixed(1) ?? '-'}; main ELU ${sample.main_elu?.toFixed(2) ?? '-'})`,
    );
  }
}

const rows = clients.map((c) => {
  const list = samples.get(c) ?? [];
  const rate = median(list.map((s) => s.items_per_s));
  return {
    client: c.client,
    threads: c.threads,
    by_threads: c.client.startsWith('batch-llm'),
    items_per_s: rate,
    steady_items_per_s: median(list.map((s) => s.steady_items_per_s)),
    cpu_us_per_item: median(list.map((s) => s.cpu_us_per_item)),
    ...(c.client === 'batch-llm'
      ? {
          main_thread_us_per_item: median(list.map((s) => s.main_us_per_item ?? Number.NaN)),
          pool_threads_us_per_item: median(list.map((s) => s.pool_threads_us_per_item ?? Number.NaN)),
          helper_threads_us_per_item: median(list.map((s) => s.helper_threads_us_per_item ?? Number.NaN)),
          main_thread_elu: median(list.map((s) => s.main_elu ?? Number.NaN)),
        }
      : {}),
    of_target: c.client.startsWith('batch-llm') ? ratio(rate.median, TARGET) : null,
  };
});

rmSync(dir, { recursive: true, force: true });

printResult('framework-overhead', quick ? 'quick' : 'full', {
  items: count,
  concurrency,
  runs,
  target_items_per_s: TARGET,
  rows,
});
