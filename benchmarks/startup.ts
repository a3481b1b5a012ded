// Start-up of the built CLI (issue 12 point 4), in a process of its own against the simulator in
// another: the time from spawning `batch-llm run` to its first request reaching the simulator
// (target ≤ 250 ms), and the wall time of a 40-item run whose first 40 requests are all answered
// 429 with `retry-after-ms: 1000` — one shared cooldown, then every item succeeds (target ≤ 1.6 s).
// The simulator's request count is polled every 2 ms over IPC, so "first request" is within a few
// ms. The same one item run by a program that imports the built library (`runBatch` from the
// package's index) gives the library's start-up. Builds dist/ first. Prints one JSON object. --compare adds the built CLI of another checkout
// (build it there first); the two take turns within each run, so the machine's drift is shared.
// Node's own start (`node -e 0`, spawned the same way) is measured alongside, as the floor. So is
// the first request of a large input (--big-lines, default 1M lines; the CLI scans the whole file
// before it starts, and is killed once its first request is seen).
//
//   npx tsx benchmarks/startup.ts [--quick] [--runs 5] [--big-lines 1000000] [--compare /path/to/another/checkout]
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { log, printResult } from './lib/report.js';
import { startSimChild, type SimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, 'big-lines': { type: 'string' }, compare: { type: 'string' } } });
const quick = values.quick;
const runs = Number(values.runs ?? (quick ? 2 : 5));
const bigLines = Number(values['big-lines'] ?? (quick ? 100_000 : 1_000_000));
const COOLDOWN_ITEMS = 40;
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-startup-'));

function inputOf(count: number): string {
  const file = join(dir, `input-${count}.jsonl`);
  writeFileSync(file, Array.from({ length: count }, (_, i) => `{"custom_id":"s${i}","prompt":"start-up item ${i}"}\n`).join(''));
  return file;
}

/**
 * Spawns `node <args>`; resolves with the ms to the simulator's first request and to exit. With
 * `killAtFirst` the process is killed (SIGKILL) once its first request is seen.
 */
async function timeFirstRequest(args: string[], sim: SimChild, env: NodeJS.ProcessEnv = process.env, killAtFirst = false): Promise<{ firstRequestMs: number; wallMs: number }> {
  const before = (await sim.stats()).requests;
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  const exited = once(child, 'exit');
  let firstRequestMs = Number.NaN;
  let done = false;
  void exited.then(() => (done = true));
  while (!done && Number.isNaN(firstRequestMs)) {
    if ((await sim.stats()).requests > before) firstRequestMs = performance.now() - started;
    else await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (killAtFirst) child.kill('SIGKILL');
  const [code] = (await exited) as [number | null];
  if (code !== 0 && !(killAtFirst && code === null)) throw new Error(`node ${args[0] ?? ''} exited ${String(code)}`);
  return { firstRequestMs, wallMs: performance.now() - started };
}

/** `batch-llm run` of the checkout's dist/ over `input` (killed at its first request with `killAtFirst`). */
function runCli(checkout: string, sim: SimChild, input: string, killAtFirst = false): Promise<{ firstRequestMs: number; wallMs: number }> {
  return timeFirstRequest([join(checkout, 'dist/src/cli/main.js'), 'run', input, '-o', join(dir, 'out.jsonl'), '--overwrite', '--no-progress', '--base-url', sim.url], sim, process.env, killAtFirst);
}

/** A program that imports the checkout's built library (its package index) and runs one item with runBatch. */
function runLibrary(checkout: string, sim: SimChild): Promise<{ firstRequestMs: number; wallMs: number }> {
  const script = `import { runBatch } from ${JSON.stringify(join(checkout, 'dist/src/index.js'))};
const items = [{ custom_id: 's0', body: { model: 'sim', messages: [{ role: 'user', content: 'start-up item' }] } }];
const { summary } = await runBatch({ items, baseURL: process.env.BATCH_LLM_SIM_URL });
if (summary.succeeded !== 1) process.exit(1);`;
  return timeFirstRequest(['--input-type=module', '-e', script], sim, { ...process.env, BATCH_LLM_SIM_URL: sim.url });
}

/** The wall time of spawning `node -e 0` and its exit: Node's own start, the floor of every CLI. */
async function nodeAlone(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  return performance.now() - started;
}

interface Figures {
  first: number[];
  oneWall: number[];
  cooldownWall: number[];
  libraryFirst: number[];
  libraryWall: number[];
  bigFirst: number[];
}

execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
const clis = [{ client: 'batch-llm run (this checkout)', checkout: root }, ...(values.compare === undefined ? [] : [{ client: `batch-llm run at ${values.compare}`, checkout: values.compare }])];
const figures: Figures[] = clis.map(() => ({ first: [], oneWall: [], cooldownWall: [], libraryFirst: [], libraryWall: [], bigFirst: [] }));
const nodeStart: number[] = [];
const one = inputOf(1);
const forty = inputOf(COOLDOWN_ITEMS);
const big = bigLines > 0 ? inputOf(bigLines) : null;
try {
  for (let run = 0; run < runs; run += 1) {
    nodeStart.push(await nodeAlone());
    for (const [i, cli] of clis.entries()) {
      const f = figures[i];
      if (f === undefined) continue;
      const plain = await startSimChild({});
      try {
        const r = await runCli(cli.checkout, plain, one);
        f.first.push(r.firstRequestMs);
        f.oneWall.push(r.wallMs);
        const library = await runLibrary(cli.checkout, plain);
        f.libraryFirst.push(library.firstRequestMs);
        f.libraryWall.push(library.wallMs);
        if (big !== null) f.bigFirst.push((await runCli(cli.checkout, plain, big, true)).firstRequestMs);
      } finally {
        await plain.stop();
      }
      // A fresh simulator per run: its storm is played once.
      const storm = await startSimChild({ faults: { storms: [{ holdUntilInFlight: COOLDOWN_ITEMS, hint: { header: 'retry-after-ms', ms: 1000 } }] } });
      try {
        f.cooldownWall.push((await runCli(cli.checkout, storm, forty)).wallMs);
      } finally {
        await storm.stop();
      }
      log(`startup run ${run + 1}, ${cli.client}: first request ${Math.round(f.first.at(-1) ?? 0)} ms, 1 item ${Math.round(f.oneWall.at(-1) ?? 0)} ms, 40 items + cooldown ${Math.round(f.cooldownWall.at(-1) ?? 0)} ms; library: first request ${Math.round(f.libraryFirst.at(-1) ?? 0)} ms; ${bigLines} lines: first request ${Math.round(f.bigFirst.at(-1) ?? Number.NaN)} ms (node -e 0: ${Math.round(nodeStart.at(-1) ?? 0)} ms)`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows = clis.map((cli, i) => {
  const f = figures[i] ?? { first: [], oneWall: [], cooldownWall: [], libraryFirst: [], libraryWall: [], bigFirst: [] };
  return {
    client: cli.client,
    first_request_ms: median(f.first),
    one_item_wall_ms: median(f.oneWall),
    cooldown_40_items_wall_ms: median(f.cooldownWall),
    // The same one item through the library: `import { runBatch } from 'batch-llm'` in a program of its own.
    library_first_request_ms: median(f.libraryFirst),
    library_one_item_wall_ms: median(f.libraryWall),
    // The CLI over --big-lines lines: the whole file is scanned (hash, line count) before the run starts.
    ...(big === null ? {} : { big_input_lines: bigLines, big_input_first_request_ms: median(f.bigFirst) }),
  };
});
const [own] = rows;
printResult('startup', quick ? 'quick' : 'full', {
  runs,
  node_alone_ms: median(nodeStart),
  // The first CLI's figures at the top level, as before --compare existed (charts and older results read these).
  first_request_ms: own?.first_request_ms,
  one_item_wall_ms: own?.one_item_wall_ms,
  cooldown_40_items_wall_ms: own?.cooldown_40_items_wall_ms,
  rows,
  targets: { first_request_ms: 250, cooldown_40_items_wall_ms: 1600 },
});
