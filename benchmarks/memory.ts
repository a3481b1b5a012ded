// Memory: one million items streamed through streamBatch (generator input, each result taken and
// dropped) against an instant task `call`, so the run is as fast as batch-llm itself allows and
// memory is all that is measured. Peak RSS from sampling process.memoryUsage().rss and from the
// kernel's high-water mark (VmHWM in /proc/self/status), RSS at points along the run (flat = the
// memory does not grow with the input), and items/s. For comparison, the same items through
// p-limit as its README shows it (every item wrapped at once, then Promise.all), which holds a
// promise per item. Every run is a fresh child process, so each peak is its own.
// Prints one JSON object.
//
//   npx tsx benchmarks/memory.ts [--quick] [--items 1000000] [--runs 3] [--clients batch-llm,p-limit]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { streamBatch } from '../src/run/run-batch.js';
import { log, printResult, round } from './lib/report.js';
import { median } from './lib/stats.js';
import { cannedCompletion, chatItems } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    items: { type: 'string' },
    runs: { type: 'string' },
    clients: { type: 'string', default: 'batch-llm,p-limit' },
    concurrency: { type: 'string', default: '1024' },
    threads: { type: 'string', default: '2' },
    child: { type: 'string' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 250_000 : 1_000_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const concurrency = Number(values.concurrency);
const threads = Number(values.threads);
const MB = 2 ** 20;

interface ChildResult {
  items_per_s: number;
  peak_rss_sampled_mb: number;
  vm_hwm_mb: number;
  rss_before_mb: number;
  /** RSS when 10%, 50% and 90% of the items were done. */
  rss_along_mb: number[];
}

function vmHwmBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** One run, in this (child) process. */
async function runChild(client: string): Promise<ChildResult> {
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const marks = [0.1, 0.5, 0.9].map((share) => Math.floor(share * count));
  const along: number[] = [];
  let done = 0;
  const onDone = () => {
    done += 1;
    if (done === marks[along.length]) along.push(process.memoryUsage().rss / MB);
  };
  const started = performance.now();
  if (client === 'batch-llm') {
    const task = new URL('./tasks/instant.ts', import.meta.url).pathname;
    const stream = streamBatch({ items: chatItems(count, 8), baseURL: 'http://127.0.0.1:9/v1', task, threads, concurrency });
    for await (const result of stream) {
      if (!result.ok) throw new Error(`${result.custom_id} failed: ${result.error.message}`);
      onDone();
    }
  } else if (client === 'p-limit') {
    const completion = cannedCompletion();
    const limit = pLimit(concurrency);
    // As p-limit's README shows it: wrap every input, then await them all.
    await Promise.all(
      Array.from(chatItems(count, 8), () =>
        limit(async () => {
          onDone();
          return completion;
        }),
      ),
    );
  } else {
    throw new Error(`unknown client ${client}`);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    items_per_s: count / seconds,
    peak_rss_sampled_mb: peak / MB,
    vm_hwm_mb: vmHwmBytes() / MB,
    rss_before_mb: rssBefore / MB,
    rss_along_mb: along.map((mb) => round(mb, 1)),
  };
}

async function runInChild(client: string): Promise<ChildResult> {
  const script = new URL(import.meta.url).pathname;
  const args = ['--child', client, '--items', String(count), '--concurrency', String(concurrency), '--threads', String(threads)];
  const child = fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const messages: unknown[] = [];
  child.on('message', (message) => messages.push(message));
  const [code] = (await once(child, 'exit')) as [number | null];
  const result = messages[0] as ChildResult | undefined;
  if (code !== 0 || result === undefined) throw new Error(`memory run of ${client} exited with ${String(code)}`);
  return result;
}

if (values.child !== undefined) {
  const result = await runChild(values.child);
  process.send?.(result, () => process.exit(0));
} else {
  const clientIds = values.clients.split(',').filter(Boolean);
  const samples = new Map<string, ChildResult[]>(clientIds.map((id) => [id, []]));
  for (let run = 0; run < runs; run += 1) {
    for (const id of clientIds) {
      const sample = await runInChild(id);
      samples.get(id)?.push(sample);
      log(
        `memory ${id}: peak RSS ${Math.round(sample.peak_rss_sampled_mb)} MB (VmHWM ${Math.round(sample.vm_hwm_mb)} MB), ` +
          `along ${sample.rss_along_mb.join(' / ')} MB, ${Math.round(sample.items_per_s)} items/s`,
      );
    }
  }
  const rows = clientIds.map((id) => {
    const list = samples.get(id) ?? [];
    return {
      client: id === 'p-limit' ? 'p-limit (Promise.all over every item)' : `batch-llm (streamBatch, ${threads} threads)`,
      id,
      peak_rss_mb: median(list.map((s) => s.vm_hwm_mb)),
      peak_rss_sampled_mb: median(list.map((s) => s.peak_rss_sampled_mb)),
      rss_before_mb: median(list.map((s) => s.rss_before_mb)),
      // RSS at 10 %, 50 % and 90 % of the items, from the median run by peak.
      rss_along_mb: [...list].sort((a, b) => a.vm_hwm_mb - b.vm_hwm_mb)[Math.floor(list.length / 2)]?.rss_along_mb ?? [],
      items_per_s: median(list.map((s) => s.items_per_s)),
    };
  });
  printResult('memory', quick ? 'quick' : 'full', {
    items: count,
    concurrency,
    runs,
    rows,
  });
}
