// Peak memory of the CLI over a large input: `batch-llm run` (built dist/, a separate process)
// over N short-form lines against an instant simulator in a process of its own. Peak RSS is the
// kernel's high-water mark of the whole CLI process, all threads included (VmHWM). Prints one
// JSON object.
//
//   npm run build && npx tsx benchmarks/cli-memory.ts [--lines 1000000] [--node-option=--max-old-space-size=48] [--cli-arg=--thread-memory=48]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSim } from './lib/spawn-sim.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, 'node-option': { type: 'string', multiple: true, default: [] }, 'cli-arg': { type: 'string', multiple: true, default: [] } } });
const lines = Number(values.lines);
const dir = mkdtempSync(join(tmpdir(), 'batch-llm-memory-'));
const input = join(dir, 'input.jsonl');
const output = join(dir, 'results.jsonl');

async function writeInput(): Promise<void> {
  const out = createWriteStream(input);
  for (let i = 0; i < lines; i += 1) {
    if (!out.write(`{"custom_id":"item-${i}","prompt":"Classify item ${i} as one of: red, green, blue."}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

await writeInput();
const sim = await spawnSim({ latencyMs: 0 });
try {
  const cli = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
  const started = performance.now();
  const child = spawn(process.execPath, [...values['node-option'], cli, 'run', input, '-o', output, '--base-url', sim.url, '--model', 'sim', '--no-progress', ...values['cli-arg']], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let peak = 0;
  // VmHWM is the process's own high-water mark; poll it until just before the process ends.
  const poll = setInterval(() => {
    try {
      if (child.pid !== undefined) peak = Math.max(peak, peakRssMb(child.pid));
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
  console.log(
    JSON.stringify(
      {
        benchmark: 'cli-memory',
        node: process.version,
        cores: availableParallelism(),
        cpu: cpus()[0]?.model,
        lines,
        node_options: values['node-option'],
        cli_args: values['cli-arg'],
        input_mb: Math.round(statSync(input).size / 1e6),
        peak_rss_mb: peak,
        target_peak_rss_mb: 200,
        items_per_s: Math.round(lines / seconds),
        wall_s: Math.round(seconds * 10) / 10,
      },
      null,
      2,
    ),
  );
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
