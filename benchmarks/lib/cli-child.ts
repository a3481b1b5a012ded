// `batch-llm run` from a build's dist/ in a process of its own, as users run it: its wall time,
// its CPU (the whole process, polled from /proc: the kernel's counters vanish with it, so the
// last reading, at most 5 ms short, is kept) and when its results file first had a line.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { processCpuMicros } from './cpu.js';

export interface CliChildRun {
  wallMs: number;
  cpuMicros: number;
  /** From the start to the first bytes in the results file (NaN if never seen): thread start-up. */
  firstOutputMs: number;
}

/** Runs `node <checkout>/dist/src/cli/main.js run <input> -o <out> --overwrite --no-progress ...args`. */
export async function runCliChild(checkout: string, input: string, out: string, args: string[]): Promise<CliChildRun> {
  // A results file left by an earlier run would count as this one's first line.
  rmSync(out, { force: true });
  const started = performance.now();
  const child = spawn(process.execPath, [join(checkout, 'dist/src/cli/main.js'), 'run', input, '-o', out, '--overwrite', '--no-progress', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  let cpu = 0;
  let firstOutputMs = Number.NaN;
  const poll = setInterval(() => {
    const now = processCpuMicros(child.pid);
    if (Number.isFinite(now)) cpu = now;
    if (Number.isNaN(firstOutputMs) && (statSync(out, { throwIfNoEntry: false })?.size ?? 0) > 0) firstOutputMs = performance.now() - started;
  }, 5);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(poll);
  if (code !== 0) throw new Error(`batch-llm run exited ${String(code)}`);
  return { wallMs: performance.now() - started, cpuMicros: cpu, firstOutputMs };
}
