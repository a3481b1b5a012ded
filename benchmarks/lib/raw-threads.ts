// The hardware's own thread scaling for a task's answer handling, without batch-llm: the task file
// is loaded on `threads` plain worker_threads, which start together and each take their share of
// the answers through what a batch-llm worker does with one — JSON.parse, the task's zod schema,
// its postProcess — and nothing else (no HTTP, no pool, no messages per item). Items/s at N
// threads ÷ 1 thread is then what the cores give for this very work: the ceiling against which
// batch-llm's own N ÷ 1 is read. (On the benchmark machine plain JS scales ~2× on 2 threads,
// node:crypto's SHA-256 only ~1.2×: the work decides, not the pool.)
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

// The thread's code, evaluated as CommonJS: it imports the task through tsx's scoped loader (the
// task is TypeScript), says it is ready, then waits for the start so that every thread begins
// together, runs its answers and reports its own CPU time.
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
// This thread's CPU time in clock ticks (process.cpuUsage() counts every thread of the process).
function ticks() {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
(async () => {
  const { tsImport } = await import('tsx/esm/api');
  const task = (await tsImport(workerData.taskUrl, workerData.base)).default;
  const signal = new AbortController().signal;
  parentPort.postMessage('ready');
  parentPort.once('message', async () => {
    const before = ticks();
    const answers = workerData.answers;
    for (let i = 0; i < answers.length; i += 1) {
      const value = task.schema.parse(JSON.parse(answers[i]));
      if (task.postProcess) await task.postProcess(value, { customId: 'i' + i, signal });
    }
    parentPort.postMessage({ ticks: ticks() - before });
  });
})();
`;

const MICROS_PER_TICK = 10_000;

export interface RawThreadsResult {
  items_per_s: number;
  /** CPU per item on the threads that ran it (from /proc/thread-self/stat, 10 ms resolution). */
  cpu_us_per_item: number;
}

/** Handles `answers` (answer texts, as the simulator sends them) over `threads` raw threads. */
export async function rawThreads(taskFile: string, threads: number, answers: readonly string[]): Promise<RawThreadsResult> {
  const share = Math.ceil(answers.length / threads);
  const workers = Array.from(
    { length: threads },
    (_, index) =>
      new Worker(THREAD_CODE, {
        eval: true,
        workerData: { taskUrl: pathToFileURL(taskFile).href, base: import.meta.url, answers: answers.slice(index * share, (index + 1) * share) },
      }),
  );
  try {
    await Promise.all(workers.map((worker) => once(worker, 'message')));
    const done = workers.map((worker) => once(worker, 'message') as Promise<[{ ticks: number }]>);
    const started = performance.now();
    for (const worker of workers) worker.postMessage('start');
    const results = await Promise.all(done);
    const wallMs = performance.now() - started;
    const ticks = results.reduce((sum, [r]) => sum + r.ticks, 0);
    return { items_per_s: answers.length / (wallMs / 1000), cpu_us_per_item: (ticks * MICROS_PER_TICK) / answers.length };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
