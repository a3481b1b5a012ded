// The request path, side by side in one run (issue 12): the built CLI (`batch-llm run` from dist/,
// in a process of its own) at 1 and 2 threads against two one-thread control loops — a
// `node:http` keep-alive semaphore loop (the practical ceiling of one Node thread) and a global
// `fetch` semaphore loop — on the same 50 ms simulator in another process. Per client: items/s,
// client CPU µs per request (the whole client process: for the CLI its main thread, workers,
// JSONL in and out), and the requests in flight the simulator saw in steady state (sampled every
// 10 ms; the median of the samples between 20 % and 80 % of the run), against the configured
// number, and the items/s the simulator saw in that same window: the steady rate, without the
// CLI's start-up and exit (which the loops, run in this process, do not pay). Builds dist/ first.
// Prints one JSON object.
//
//   npx tsx benchmarks/http-path.ts [--quick] [--items 10000] [--latency 50] [--in-flight 256]
//       [--threads 1,2] [--runs 3] [--compare /path/to/another/checkout]
// --compare adds the CLI of another checkout (built there beforehand, e.g. an older commit), run
// the same way, so a change is measured against what it replaces in the same run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCliChild } from './lib/cli-child.js';
import { ownCpuMicros } from './lib/cpu.js';
import { log, printResult, ratio, round } from './lib/report.js';
import { startSimChild, type SimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import { chatItems, writeChatInput, type ChatItem } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    items: { type: 'string' },
    latency: { type: 'string', default: '50' },
    'in-flight': { type: 'string', default: '256' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string' },
    compare: { type: 'string' },
  },
});
const quick = values.quick;
const count = Number(values.items ?? (quick ? 3000 : 10_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const latencyMs = Number(values.latency);
const inFlight = Number(values['in-flight']);
const threadCounts = values.threads.split(',').filter(Boolean).map(Number);
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-http-path-'));
const input = join(dir, 'input.jsonl');

interface Sample {
  items_per_s: number;
  client_cpu_us_per_item: number;
  simulator_cpu_us_per_item: number;
  steady_in_flight: number;
  steady_items_per_s: number;
}

/**
 * Samples the simulator's in-flight count and request total until stopped; for the samples
 * between 20 % and 80 % of the run, the median in flight and the requests a second.
 */
function watchInFlight(sim: SimChild): { stop(): Promise<{ inFlight: number; itemsPerS: number }> } {
  const samples: Array<{ at: number; inFlight: number; requests: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { inFlight, requests } = await sim.stats();
      samples.push({ at: performance.now(), inFlight, requests });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const steady = samples.slice(Math.floor(samples.length * 0.2), Math.ceil(samples.length * 0.8));
      const first = steady[0];
      const last = steady.at(-1);
      const itemsPerS = first === undefined || last === undefined || last.at <= first.at ? Number.NaN : ((last.requests - first.requests) * 1000) / (last.at - first.at);
      return { inFlight: median(steady.map((s) => s.inFlight)).median, itemsPerS };
    },
  };
}

/** A semaphore loop: `concurrency` workers each taking the next item until none is left. */
async function semaphoreLoop(items: ChatItem[], concurrency: number, send: (item: ChatItem) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await send(items[next++] as ChatItem);
    }),
  );
}

function nodeHttpLoop(url: string, items: ChatItem[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const target = new URL(`${url}/chat/completions`);
  return semaphoreLoop(items, inFlight, (item) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify(item.body);
      const request = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer no-key' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (response.statusCode === 200) resolve();
          else reject(new Error(`status ${String(response.statusCode)}`));
        });
      });
      request.on('error', reject);
      request.end(body);
    }),
  ).finally(() => agent.destroy());
}

function fetchLoop(url: string, items: ChatItem[]): Promise<void> {
  return semaphoreLoop(items, inFlight, async (item) => {
    const response = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer no-key' }, body: JSON.stringify(item.body) });
    await response.json();
    if (response.status !== 200) throw new Error(`status ${response.status}`);
  });
}

/** `batch-llm run` from dist/ in its own process: its wall time and CPU (polled from /proc). */
function runCli(url: string, threads: number, cliRoot = root): Promise<{ wallMs: number; cpuMicros: number }> {
  return runCliChild(cliRoot, input, join(dir, 'out.jsonl'), ['--base-url', url, '--threads', String(threads), '--concurrency', String(inFlight)]);
}

execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
writeChatInput(input, count, 8);
const sim = await startSimChild({ latencyMs });
const clients: Array<{ client: string; threads: number; measure: () => Promise<{ wallMs: number; cpuMicros: number }> }> = [
  ...threadCounts.map((threads) => ({ client: 'batch-llm CLI', threads, measure: () => runCli(sim.url, threads) })),
  ...(values.compare === undefined ? [] : threadCounts.map((threads) => ({ client: `batch-llm CLI at ${values.compare}`, threads, measure: () => runCli(sim.url, threads, values.compare) }))),
  ...[
    { client: 'node:http keep-alive loop', loop: nodeHttpLoop },
    { client: 'fetch loop', loop: fetchLoop },
  ].map(({ client, loop }) => ({
    client,
    threads: 1,
    measure: async () => {
      const items = [...chatItems(count, 8)];
      const cpuBefore = ownCpuMicros();
      const started = performance.now();
      await loop(sim.url, items);
      return { wallMs: performance.now() - started, cpuMicros: ownCpuMicros() - cpuBefore };
    },
  })),
];
const samples = new Map<string, Sample[]>();
try {
  // Clients take turns within each repetition, so drift of a loaded machine is spread over all;
  // every other repetition in the reverse order, because the position in a round counts too (a
  // CLI run just after another CLI run was seen faster, whichever checkout it was).
  for (let run = 0; run < runs; run += 1) {
    for (const { client, threads, measure } of run % 2 === 0 ? clients : [...clients].reverse()) {
      const name = `${client} ×${threads}`;
      const simCpuBefore = sim.cpuMicros();
      const requestsBefore = (await sim.stats()).requests;
      const watch = watchInFlight(sim);
      const { wallMs, cpuMicros } = await measure();
      const steady = await watch.stop();
      const requests = (await sim.stats()).requests - requestsBefore;
      if (requests < count) throw new Error(`${name}: the simulator saw ${requests} requests for ${count} items`);
      const sample = {
        items_per_s: count / (wallMs / 1000),
        client_cpu_us_per_item: cpuMicros / count,
        simulator_cpu_us_per_item: (sim.cpuMicros() - simCpuBefore) / count,
        steady_in_flight: steady.inFlight,
        steady_items_per_s: steady.itemsPerS,
      };
      samples.set(name, [...(samples.get(name) ?? []), sample]);
      log(`http-path ${name}: ${Math.round(sample.items_per_s)} items/s, ${Math.round(sample.client_cpu_us_per_item)} µs/item, in flight ${steady.inFlight}, steady ${Math.round(steady.itemsPerS)} items/s`);
    }
  }
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows = clients.map(({ client, threads }) => {
  const list = samples.get(`${client} ×${threads}`) ?? [];
  const steady = median(list.map((s) => s.steady_in_flight));
  return {
    client,
    threads,
    items_per_s: median(list.map((s) => s.items_per_s)),
    client_cpu_us_per_item: median(list.map((s) => s.client_cpu_us_per_item)),
    simulator_cpu_us_per_item: median(list.map((s) => s.simulator_cpu_us_per_item)),
    steady_items_per_s: median(list.map((s) => s.steady_items_per_s)),
    steady_in_flight: steady,
    in_flight_ratio: ratio(steady.median, inFlight),
  };
});
const best = Math.max(...rows.filter((r) => r.client === 'batch-llm CLI').map((r) => r.items_per_s.median));
const of = (client: string) => rows.find((r) => r.client === client)?.items_per_s.median ?? Number.NaN;
const bestSteady = Math.max(...rows.filter((r) => r.client === 'batch-llm CLI').map((r) => r.steady_items_per_s.median));
const steadyOf = (client: string) => rows.find((r) => r.client === client)?.steady_items_per_s.median ?? Number.NaN;
printResult('http-path', quick ? 'quick' : 'full', {
  items: count,
  latency_ms: latencyMs,
  in_flight: inFlight,
  littles_law_limit: inFlight / (latencyMs / 1000),
  runs,
  rows,
  ratios: {
    'batch-llm CLI ÷ fetch loop': round(best / of('fetch loop'), 2),
    'batch-llm CLI ÷ node:http loop': round(best / of('node:http keep-alive loop'), 2),
    'steady: batch-llm CLI ÷ fetch loop': round(bestSteady / steadyOf('fetch loop'), 2),
    'steady: batch-llm CLI ÷ node:http loop': round(bestSteady / steadyOf('node:http keep-alive loop'), 2),
  },
});
