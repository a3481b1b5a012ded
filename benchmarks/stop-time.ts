// Stopping a long run (issue 14, point 15; target: about a second whatever the input's size):
// `batch-llm run` from a built dist/ over N short-form lines against a simulator in another
// process, sent SIGTERM once a first batch of lines is written. Measures the time from the signal
// to the process's exit, and the results file's size and lines after the stop. With --baseline
// (another checkout's dist/src/cli/main.js, e.g. main before the change) both CLIs run side by
// side, alternating, on the same input and simulator. Builds this checkout's dist/ first. Prints
// one JSON object.
//
//   npx tsx benchmarks/stop-time.ts [--quick] [--lines 200000] [--runs 3] [--latency 100]
//       [--after-lines 200] [--baseline /path/to/other/dist/src/cli/main.js]
// (--quick: 50k lines, one run.)
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { log, printResult, ratio, round } from './lib/report.js';
import { startSimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import { writeShortFormInput } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    lines: { type: 'string' },
    runs: { type: 'string' },
    latency: { type: 'string', default: '100' },
    'after-lines': { type: 'string', default: '200' },
    baseline: { type: 'string' },
  },
});
const quick = values.quick;
const lines = Number(values.lines ?? (quick ? 50_000 : 200_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const afterLines = Number(values['after-lines']);
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-stop-'));
const input = join(dir, 'input.jsonl');
const output = join(dir, 'results.jsonl');

function lineCount(path: string): number {
  if (!existsSync(path)) return 0;
  let count = 0;
  for (const byte of readFileSync(path)) if (byte === 0x0a) count += 1;
  return count;
}

interface Sample {
  stop_ms: number;
  results_mb: number;
  results_lines: number;
  exit_code: number | null;
}

async function measure(cli: string, simUrl: string): Promise<Sample> {
  rmSync(output, { force: true });
  rmSync(`${output}.meta.json`, { force: true });
  const child = spawn(process.execPath, [cli, 'run', input, '-o', output, '--base-url', simUrl, '--model', 'sim', '--no-progress'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  // The stop comes once the run is well under way: its first lines are in the file.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`batch-llm run ended before the stop: ${stderr.slice(-2000)}`);
    if (existsSync(output) && statSync(output).size > 0 && lineCount(output) >= afterLines) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const signalled = performance.now();
  child.kill('SIGTERM');
  const [code] = await exited;
  const stopMs = performance.now() - signalled;
  if (code !== 3) throw new Error(`expected exit code 3 (stopped) after SIGTERM, got ${String(code)}: ${stderr.slice(-2000)}`);
  return { stop_ms: stopMs, results_mb: statSync(output).size / 1e6, results_lines: lineCount(output), exit_code: code };
}

// This checkout's CLI is the built package, as users run it.
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
const clis: Array<{ name: string; path: string }> = [{ name: 'this checkout', path: join(root, 'dist/src/cli/main.js') }];
if (values.baseline !== undefined) clis.unshift({ name: `baseline (${values.baseline})`, path: values.baseline });
await writeShortFormInput(input, lines);
const sim = await startSimChild({ latencyMs: Number(values.latency) });
const samples = new Map<string, Sample[]>(clis.map((cli) => [cli.name, []]));
try {
  for (let run = 0; run < runs; run += 1) {
    for (const cli of clis) {
      const sample = await measure(cli.path, sim.url);
      samples.get(cli.name)?.push(sample);
      log(`stop-time run ${run + 1}/${runs}, ${cli.name}: stop ${Math.round(sample.stop_ms)} ms, results ${round(sample.results_mb, 2)} MB in ${sample.results_lines} lines`);
    }
  }
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows = clis.map((cli) => {
  const taken = samples.get(cli.name) ?? [];
  return {
    client: cli.name,
    stop_ms: median(taken.map((s) => s.stop_ms)),
    results_mb: median(taken.map((s) => s.results_mb)),
    results_lines: median(taken.map((s) => s.results_lines)),
  };
});
const [first, last] = [rows[0], rows.at(-1)];
printResult('stop-time', quick ? 'quick' : 'full', {
  lines,
  runs,
  simulator_latency_ms: Number(values.latency),
  sigterm_after_lines: afterLines,
  rows,
  ...(rows.length === 2 && first !== undefined && last !== undefined
    ? { stop_ms_ratio: ratio(last.stop_ms.median, first.stop_ms.median), results_mb_ratio: ratio(last.results_mb.median, first.results_mb.median) }
    : {}),
});
