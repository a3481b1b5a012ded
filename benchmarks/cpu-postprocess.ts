// CPU-bound answers (issue 12 point 6): answers parsed, zod-validated and post-processed by a task
// whose postProcess is the expensive part (tasks/cpu-heavy.ts: ~5 ms of plain-JS text analysis
// per item; tasks/large-json.ts: large JSON answers), side by side in one run:
//   - batch-llm as a library (streamBatch from source), by thread count;
//   - the built CLI (`batch-llm run --task …` from dist/, a process of its own), by thread count;
//   - the control: the same answers' parse + validate + postProcess on raw worker_threads, by
//     thread count, without batch-llm (lib/raw-threads.ts) — what the cores give for this work;
//   - the one-thread baselines (p-limit, p-queue, bottleneck with the openai client) doing the
//     very same work on their one thread.
// Items/s are steady state (library: first result to last; CLI: the simulator's 10 % to 90 % of
// the requests, so the CLI's start-up is left out), and so is batch-llm's CPU per item, with its
// main thread's share apart (the rest: worker threads, V8's and libuv's helpers). The simulator
// runs in its own process and shares the cores with the client: its CPU per item is reported
// too. The headline is `scaling`: batch-llm's N ÷ 1 threads against the raw threads' N ÷ 1 for
// the same work.
// Builds dist/ first when the CLI is measured. Prints one JSON object.
//
//   npx tsx benchmarks/cpu-postprocess.ts [--quick] [--task cpu-heavy|large-json] [--items 2000]
//       [--threads 1,2] [--clients library,cli,raw] [--baselines p-limit,p-queue,bottleneck]
//       [--concurrency 64] [--latency 5] [--runs 3]
// CPU_TASK_ROUNDS sets cpu-heavy's work per item (default 200 rounds, ~5 ms here).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { instanceFromSchema } from '../src/sim/json-from-schema.js';
import { mulberry32 } from '../src/sim/prng.js';
import { loadSchemaTools, responseFormat } from '../src/task/answer.js';
import { isTask } from '../src/task/task.js';
import { type BaselineId, BASELINES } from './lib/baselines.js';
import { runBatchLlm } from './lib/batch-llm.js';
import { ownCpuMicros, processCpuMicros } from './lib/cpu.js';
import { rawThreads } from './lib/raw-threads.js';
import { log, printResult, ratio, round } from './lib/report.js';
import { startSimChild, type SimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import type { ChatBody, ChatItem } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    task: { type: 'string', default: 'cpu-heavy' },
    items: { type: 'string' },
    threads: { type: 'string', default: `1,${availableParallelism()}` },
    clients: { type: 'string', default: 'library,cli,raw' },
    baselines: { type: 'string', default: 'p-limit,p-queue,bottleneck' },
    concurrency: { type: 'string', default: '64' },
    latency: { type: 'string', default: '5' },
    runs: { type: 'string' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 400 : 2000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const concurrency = Number(values.concurrency);
const threadCounts = values.threads.split(',').filter(Boolean).map(Number);
const kinds = new Set(values.clients.split(',').filter(Boolean));
const root = new URL('..', import.meta.url).pathname;
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

/** The hand-rolled baseline has no deadlines: its stages get a signal that never aborts. */
const neverAborted = new AbortController().signal;

/** What batch-llm's worker does with an answer, on the baseline's one thread: parse, validate, post-process. */
async function handle(completion: ChatCompletion, customId: string): Promise<unknown> {
  const content = completion.choices[0]?.message.content;
  if (typeof content !== 'string') throw new Error('no content');
  const value: unknown = schema.parse(JSON.parse(content));
  return task.postProcess ? await task.postProcess(value, { customId, signal: neverAborted }) : value;
}

interface Measured {
  items_per_s: number;
  first_result_ms: number;
  client_cpu_us_per_item: number;
  /** batch-llm's main thread alone (the rest of its CPU is the worker threads and helpers). */
  main_thread_cpu_us_per_item?: number;
}

interface Sample extends Measured {
  simulator_cpu_us_per_item: number;
}

const dir = mkdtempSync(join(tmpdir(), 'batch-llm-cpu-postprocess-'));
const input = join(dir, 'input.jsonl');

/** CPU of a process's main thread (its thread id is the process id), in µs. */
const mainThreadCpuMicros = (pid: number) => processCpuMicros(pid, `/proc/${pid}/task/${pid}/stat`);

/**
 * `batch-llm run --task` from dist/ in its own process. Steady state is read at the simulator:
 * from the request that makes 10 % of the items to the one that makes 90 % (polled every 50 ms:
 * each poll costs the simulator an IPC round trip, which its CPU per item includes),
 * with the CLI's CPU (whole process and main thread, from /proc) over the same span.
 */
async function runCli(sim: SimChild, threads: number): Promise<Measured> {
  const before = (await sim.stats()).requests;
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [join(root, 'dist/src/cli/main.js'), 'run', input, '-o', join(dir, 'out.jsonl'), '--overwrite', '--no-progress', '--base-url', sim.url, '--task', taskFile, '--threads', String(threads), '--concurrency', String(concurrency)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('batch-llm run did not start');
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let done = false;
  void exited.then(() => (done = true));
  const marks: Array<{ at: number; requests: number; cpu: number; main: number }> = [];
  let firstRequestMs = Number.NaN;
  for (const share of [0.1, 0.9]) {
    while (!done) {
      const requests = (await sim.stats()).requests - before;
      if (requests > 0 && Number.isNaN(firstRequestMs)) firstRequestMs = performance.now() - started;
      if (requests >= count * share) {
        marks.push({ at: performance.now(), requests, cpu: processCpuMicros(pid), main: mainThreadCpuMicros(pid) });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const [code] = await exited;
  if (code !== 0) throw new Error(`batch-llm run exited ${String(code)}`);
  const [from, to] = marks;
  if (from === undefined || to === undefined) throw new Error('batch-llm run ended before 90 % of its requests were seen');
  const n = to.requests - from.requests;
  return {
    items_per_s: n / ((to.at - from.at) / 1000),
    first_result_ms: firstRequestMs,
    client_cpu_us_per_item: (to.cpu - from.cpu) / n,
    main_thread_cpu_us_per_item: (to.main - from.main) / n,
  };
}

/** Answer contents as the simulator makes them for this schema (its generator, seeded per item). */
const answers = Array.from({ length: count }, (_, i) => JSON.stringify(instanceFromSchema(format.json_schema.schema, mulberry32(i + 1))));

const sim = await startSimChild({ latencyMs: Number(values.latency) });
type Client = { client: string; threads: number; measure: () => Promise<Measured> };
const clients: Client[] = [
  ...(kinds.has('library')
    ? threadCounts.map((threads) => ({
        client: 'batch-llm',
        threads,
        measure: async () => {
          // CPU from the first result to 90 % of them: the threads' start-up (tsx compiling the
          // source in each) left out, as for the CLI.
          const upTo = Math.floor(count * 0.9);
          const result = await runBatchLlm({ items: items(), baseURL: sim.url, task: taskFile, threads, concurrency }, upTo);
          if (result.succeeded !== count) throw new Error(`batch-llm ×${threads}: only ${result.succeeded} of ${count} succeeded`);
          const split = result.threads;
          if (split === undefined) throw new Error('no CPU split of the steady span');
          const steady = upTo - 1;
          return {
            items_per_s: (count - 1) / ((result.wall_ms - result.first_result_ms) / 1000),
            first_result_ms: result.first_result_ms,
            client_cpu_us_per_item: ((split.main_ms + split.new_threads_ms + split.helpers_ms) * 1000) / steady,
            main_thread_cpu_us_per_item: (split.main_ms * 1000) / steady,
          };
        },
      }))
    : []),
  ...(kinds.has('cli') ? threadCounts.map((threads) => ({ client: 'batch-llm CLI', threads, measure: () => runCli(sim, threads) })) : []),
  ...(kinds.has('raw')
    ? threadCounts.map((threads) => ({
        client: 'raw worker_threads (control)',
        threads,
        measure: async () => {
          const r = await rawThreads(taskFile, threads, answers);
          return { items_per_s: r.items_per_s, first_result_ms: 0, client_cpu_us_per_item: r.cpu_us_per_item };
        },
      }))
    : []),
  ...(values.baselines.split(',').filter(Boolean) as BaselineId[]).map((id) => ({
    client: BASELINES[id].name,
    threads: 1,
    measure: async () => {
      const cpu = ownCpuMicros();
      const result = await BASELINES[id].run({ baseURL: sim.url, items: items(), concurrency, handle });
      if (result.succeeded !== count) throw new Error(`${BASELINES[id].name}: only ${result.succeeded} of ${count} succeeded`);
      return { items_per_s: (count - 1) / ((result.wall_ms - result.first_result_ms) / 1000), first_result_ms: result.first_result_ms, client_cpu_us_per_item: (ownCpuMicros() - cpu) / count };
    },
  })),
];
const loadAtStart = round(loadavg()[0] ?? 0, 2);
if (kinds.has('cli')) {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  // The CLI's input: the same requests; the CLI adds the task's response_format itself.
  writeFileSync(input, [...items()].map((item) => `${JSON.stringify({ custom_id: item.custom_id, method: 'POST', url: '/v1/chat/completions', body: { model: item.body.model, messages: item.body.messages } })}\n`).join(''));
}
const samples = new Map<Client, Sample[]>(clients.map((c) => [c, []]));
try {
  // Clients take turns within each repetition, so drift of a shared machine is spread over all.
  for (let run = 0; run < runs; run += 1) {
    for (const c of clients) {
      const simCpu = sim.cpuMicros();
      const measured = await c.measure();
      const sample = { ...measured, simulator_cpu_us_per_item: (sim.cpuMicros() - simCpu) / count };
      samples.get(c)?.push(sample);
      log(
        `cpu-postprocess ${c.client} ×${c.threads}: ${Math.round(sample.items_per_s)} items/s, client ${Math.round(sample.client_cpu_us_per_item)} µs/item` +
          `${sample.main_thread_cpu_us_per_item === undefined ? '' : ` (main thread ${Math.round(sample.main_thread_cpu_us_per_item)})`}, ` +
          `simulator ${Math.round(sample.simulator_cpu_us_per_item)} µs/item, first result ${Math.round(sample.first_result_ms)} ms`,
      );
    }
  }
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows = clients.map((c) => {
  const list = samples.get(c) ?? [];
  const main = list.flatMap((s) => (s.main_thread_cpu_us_per_item === undefined ? [] : [s.main_thread_cpu_us_per_item]));
  return {
    client: c.client,
    threads: c.threads,
    by_threads: c.client === 'batch-llm' || c.client === 'batch-llm CLI' || c.client.startsWith('raw'),
    items_per_s: median(list.map((s) => s.items_per_s)),
    client_cpu_us_per_item: median(list.map((s) => s.client_cpu_us_per_item)),
    ...(main.length > 0 ? { main_thread_cpu_us_per_item: median(main) } : {}),
    simulator_cpu_us_per_item: median(list.map((s) => s.simulator_cpu_us_per_item)),
    first_result_ms: median(list.map((s) => s.first_result_ms)),
  };
});
const itemsPerS = (client: string, threads: number) => rows.find((r) => r.client === client && r.threads === threads)?.items_per_s.median ?? Number.NaN;
/** N ÷ 1 threads of one client, for each N measured. */
const speedUps = (client: string) => Object.fromEntries(threadCounts.filter((n) => n !== 1).map((n) => [`${n} ÷ 1`, ratio(itemsPerS(client, n), itemsPerS(client, 1))]));
const best = Math.max(...rows.filter((r) => r.client === 'batch-llm').map((r) => r.items_per_s.median));

printResult('cpu-postprocess', quick ? 'quick' : 'full', {
  task: values.task,
  ...(values.task === 'cpu-heavy' ? { cpu_task_rounds: Number(process.env['CPU_TASK_ROUNDS'] ?? 200) } : {}),
  items: count,
  concurrency,
  latency_ms: Number(values.latency),
  runs,
  load: { start: loadAtStart, end: round(loadavg()[0] ?? 0, 2) },
  target: '2 threads ÷ 1 thread >= 1.6 (0.8 x cores) with a ~5 ms postProcess',
  rows: rows.map((row) => ({
    ...row,
    ...(row.by_threads ? { speed_up: ratio(row.items_per_s.median, itemsPerS(row.client, 1)), of_ideal: ratio(row.items_per_s.median, itemsPerS(row.client, 1) * row.threads) } : {}),
  })),
  // What batch-llm's threads give against what raw threads give for the same work on these cores.
  scaling: Object.fromEntries(['batch-llm', 'batch-llm CLI', 'raw worker_threads (control)'].filter((c) => rows.some((r) => r.client === c)).map((c) => [c, speedUps(c)])),
  // batch-llm at its best thread count against each one-thread baseline.
  ratios: Object.fromEntries(rows.filter((r) => !r.by_threads).map((r) => [`batch-llm ÷ ${r.client}`, round(best / r.items_per_s.median, 2)])),
});
