// CPU-bound answers: large JSON answers (the simulator answers the task's json_schema with a
// matching instance) parsed, zod-validated and post-processed — in batch-llm's worker threads, by
// thread count, and on the one thread of each baseline (p-limit, p-queue, bottleneck with the
// openai client), which do exactly the same work with the task's own schema and postProcess.
// Items/s are steady state (first result to last), so thread start-up is reported apart.
// The simulator runs in its own process and shares the machine's cores with the client: its CPU
// per item is reported too. Prints one JSON object.
//
//   npx tsx benchmarks/cpu-postprocess.ts [--quick] [--task large-json|cpu-heavy] [--items 1500]
//       [--threads 1,2] [--baselines p-limit,p-queue,bottleneck] [--concurrency 64] [--runs 3]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { loadSchemaTools, responseFormat } from '../src/task/answer.js';
import { isTask } from '../src/task/task.js';
import { type BaselineId, BASELINES } from './lib/baselines.js';
import { runBatchLlm } from './lib/batch-llm.js';
import { ownCpuMicros } from './lib/cpu.js';
import { log, printResult, ratio, round } from './lib/report.js';
import { startSimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import type { ChatBody, ChatItem } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    task: { type: 'string', default: 'large-json' },
    items: { type: 'string' },
    threads: { type: 'string', default: `1,${availableParallelism()}` },
    baselines: { type: 'string', default: 'p-limit,p-queue,bottleneck' },
    concurrency: { type: 'string', default: '64' },
    runs: { type: 'string' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 400 : 1500));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const concurrency = Number(values.concurrency);
const taskFile = new URL(`./tasks/${values.task}.ts`, import.meta.url).pathname;
const loaded: unknown = ((await import(taskFile)) as { default: unknown }).default;
if (!isTask(loaded) || loaded.schema === undefined) throw new Error(`${taskFile} is not a task with a schema`);
const task = loaded;
const schema = loaded.schema;
// The response_format batch-llm adds to every request of this task (zod's JSON Schema export loads lazily).
await loadSchemaTools();
const format = responseFormat(schema, task.schemaName ?? 'answer') as NonNullable<ChatBody['response_format']>;

/** The same request batch-llm sends for this task: the chat body plus the schema's response_format. */
function* items(): Generator<ChatItem> {
  for (let i = 0; i < count; i += 1) {
    yield { custom_id: `i${i}`, body: { model: 'sim', messages: [{ role: 'user', content: `document ${i}` }], response_format: format } };
  }
}

/** What batch-llm's worker does with an answer, on the baseline's one thread: parse, validate, post-process. */
/** The hand-rolled baseline has no deadlines: its stages get a signal that never aborts. */
const neverAborted = new AbortController().signal;

async function handle(completion: ChatCompletion, customId: string): Promise<unknown> {
  const content = completion.choices[0]?.message.content;
  if (typeof content !== 'string') throw new Error('no content');
  const value: unknown = schema.parse(JSON.parse(content));
  return task.postProcess ? await task.postProcess(value, { customId, signal: neverAborted }) : value;
}

interface Sample {
  steady_items_per_s: number;
  first_result_ms: number;
  client_cpu_us_per_item: number;
  simulator_cpu_us_per_item: number;
}

const sim = await startSimChild({ latencyMs: 5 });
const clients: Array<{ client: string; threads: number; measure: () => Promise<{ succeeded: number; wall_ms: number; first_result_ms: number }> }> = [
  ...values.threads
    .split(',')
    .map(Number)
    .map((threads) => ({
      client: 'batch-llm',
      threads,
      measure: () => runBatchLlm({ items: items(), baseURL: sim.url, task: taskFile, threads, concurrency }),
    })),
  ...(values.baselines.split(',').filter(Boolean) as BaselineId[]).map((id) => ({
    client: BASELINES[id].name,
    threads: 1,
    measure: () => BASELINES[id].run({ baseURL: sim.url, items: items(), concurrency, handle }),
  })),
];
const samples = new Map<(typeof clients)[number], Sample[]>(clients.map((c) => [c, []]));
try {
  for (let run = 0; run < runs; run += 1) {
    for (const c of clients) {
      const cpu = ownCpuMicros();
      const simCpu = sim.cpuMicros();
      const result = await c.measure();
      if (result.succeeded !== count) throw new Error(`${c.client}: only ${result.succeeded} of ${count} succeeded`);
      const sample = {
        steady_items_per_s: (count - 1) / ((result.wall_ms - result.first_result_ms) / 1000),
        first_result_ms: result.first_result_ms,
        client_cpu_us_per_item: (ownCpuMicros() - cpu) / count,
        simulator_cpu_us_per_item: (sim.cpuMicros() - simCpu) / count,
      };
      samples.get(c)?.push(sample);
      log(
        `cpu-postprocess ${c.client} ×${c.threads}: ${Math.round(sample.steady_items_per_s)} items/s, client ${Math.round(sample.client_cpu_us_per_item)} µs/item, ` +
          `simulator ${Math.round(sample.simulator_cpu_us_per_item)} µs/item, first result ${Math.round(sample.first_result_ms)} ms`,
      );
    }
  }
} finally {
  await sim.stop();
}

const rows = clients.map((c) => {
  const list = samples.get(c) ?? [];
  return {
    client: c.client,
    threads: c.threads,
    items_per_s: median(list.map((s) => s.steady_items_per_s)),
    client_cpu_us_per_item: median(list.map((s) => s.client_cpu_us_per_item)),
    simulator_cpu_us_per_item: median(list.map((s) => s.simulator_cpu_us_per_item)),
    first_result_ms: median(list.map((s) => s.first_result_ms)),
  };
});
const one = rows.find((r) => r.client === 'batch-llm' && r.threads === 1)?.items_per_s.median ?? Number.NaN;
const best = Math.max(...rows.filter((r) => r.client === 'batch-llm').map((r) => r.items_per_s.median));

printResult('cpu-postprocess', quick ? 'quick' : 'full', {
  task: values.task,
  items: count,
  concurrency,
  runs,
  target: 'speed-up >= 0.8 x threads (threads <= cores)',
  rows: rows.map((row) => ({
    ...row,
    ...(row.client === 'batch-llm' ? { speed_up: ratio(row.items_per_s.median, one), of_ideal: ratio(row.items_per_s.median, one * row.threads) } : {}),
  })),
  // batch-llm at its best thread count against each one-thread baseline.
  ratios: Object.fromEntries(rows.filter((r) => r.client !== 'batch-llm').map((r) => [`batch-llm ÷ ${r.client}`, round(best / r.items_per_s.median, 2)])),
});
