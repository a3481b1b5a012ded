// Peak memory of the CLI over a large input (issue: CLI and durable runs; target ≤ 200 MB at one
// million lines): `batch-llm run` from the built dist/ in a process of its own, over N short-form
// lines, against an instant simulator in another process. Peak RSS is the kernel's high-water mark
// of the whole CLI process, all its threads included (VmHWM). Builds dist/ first. Prints one JSON
// object.
//
//   npx tsx benchmarks/cli-memory.ts [--quick] [--lines 1000000] [--runs 3]
//       [--node-option=--max-old-space-size=48] [--cli-arg=--thread-memory=48]
//       [--compare /path/to/another/checkout]
// (--quick: 100k lines, one run.) --compare adds the CLI of another checkout (built there
// beforehand, e.g. an older commit); the two take turns within each run, on the same input.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { log, printResult, round } from './lib/report.js';
import { startSimChild } from './lib/sim-child.js';
import { median } from './lib/stats.js';
import { writeShortFormInput } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    lines: { type: 'string' },
    runs: { type: 'string' },
    'node-option': { type: 'string', multiple: true, default: [] },
    'cli-arg': { type: 'string', multiple: true, default: [] },
    compare: { type: 'string' },
  },
});
const quick = values.quick;
const lines = Number(values.lines ?? (quick ? 100_000 : 1_000_000));
const runs = Number(values.runs ?? (quick ? 1 : 3));
const TARGET_MB = 200;
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-memory-'));
const input = join(dir, 'input.jsonl');
const output = join(dir, 'results.jsonl');

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

interface Sample {
  peak_rss_mb: number;
  /** RSS sampled when 10 %, 50 % and 90 % of the lines were in the results file, MB. */
  rss_along_mb: number[];
  items_per_s: number;
  wall_s: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** About how many lines the results file holds: its size over the mean length of its first lines. */
let lineBytes = 0;
function linesWritten(): number {
  try {
    const size = statSync(output).size;
    if (lineBytes === 0 && size > 65_536) {
      const head = readFileSync(output).subarray(0, 65_536);
      let count = 0;
      for (let at = head.indexOf(0x0a); at !== -1; at = head.indexOf(0x0a, at + 1)) count += 1;
      lineBytes = 65_536 / Math.max(1, count);
    }
    return lineBytes === 0 ? 0 : size / lineBytes;
  } catch {
    return 0;
  }
}

async function measure(simUrl: string, checkout: string): Promise<Sample> {
  rmSync(output, { force: true });
  rmSync(`${output}.meta.json`, { force: true });
  const cli = join(checkout, 'dist/src/cli/main.js');
  const started = performance.now();
  const child = spawn(process.execPath, [...values['node-option'], cli, 'run', input, '-o', output, '--base-url', simUrl, '--model', 'sim', '--no-progress', ...values['cli-arg']], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let peak = 0;
  const marks = [0.1, 0.5, 0.9];
  const along: number[] = [];
  let polls = 0;
  // VmHWM is the process's own high-water mark; poll it until just before the process ends.
  const poll = setInterval(() => {
    try {
      if (child.pid === undefined) return;
      const now = peakRssMb(child.pid);
      if (Number.isFinite(now)) peak = Math.max(peak, now);
      // Reading the results file back costs the benchmark, not the CLI: only every second.
      polls += 1;
      const mark = marks[along.length];
      if (mark !== undefined && polls % 5 === 0 && linesWritten() >= mark * lines) along.push(rssMb(child.pid));
    } catch {
      // the process has just ended
    }
  }, 200);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`batch-llm run exited ${String(code)}: ${stderr.slice(-2000)}`);
  return { peak_rss_mb: peak, rss_along_mb: along.map((mb) => Math.round(mb)), items_per_s: lines / seconds, wall_s: seconds };
}

const clients = [
  { client: 'batch-llm run (CLI, built package)', checkout: root },
  ...(values.compare === undefined ? [] : [{ client: `batch-llm run at ${values.compare}`, checkout: values.compare }]),
];

// The CLI under test is the built package, as users run it.
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
await writeShortFormInput(input, lines);
const sim = await startSimChild({ latencyMs: 0 });
const samples: Sample[][] = clients.map(() => []);
try {
  for (let run = 0; run < runs; run += 1) {
    for (const [index, { client, checkout }] of clients.entries()) {
      const sample = await measure(sim.url, checkout);
      samples[index]?.push(sample);
      log(`cli-memory run ${run + 1}/${runs} ${client}: ${lines} lines, peak RSS ${Math.round(sample.peak_rss_mb)} MB (at 10/50/90 %: ${sample.rss_along_mb.join(' / ')}), ${Math.round(sample.items_per_s)} items/s, ${round(sample.wall_s, 1)} s`);
    }
  }
} finally {
  await sim.stop();
}
const inputMb = statSync(input).size / 1e6;
rmSync(dir, { recursive: true, force: true });

printResult('cli-memory', quick ? 'quick' : 'full', {
  lines,
  runs,
  input_mb: round(inputMb, 1),
  node_options: values['node-option'],
  cli_args: values['cli-arg'],
  target_peak_rss_mb: TARGET_MB,
  rows: clients.map(({ client }, index) => {
    const mine = samples[index] ?? [];
    const peak = median(mine.map((s) => s.peak_rss_mb));
    return {
      client,
      peak_rss_mb: peak,
      rss_along_mb: mine.map((s) => s.rss_along_mb),
      items_per_s: median(mine.map((s) => s.items_per_s)),
      wall_s: median(mine.map((s) => s.wall_s)),
      meets_target: peak.median <= TARGET_MB,
    };
  }),
});
