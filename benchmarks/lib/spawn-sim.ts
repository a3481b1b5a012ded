// Starts benchmarks/lib/sim-process.ts as a child process and resolves with its URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SimOptions } from '../../src/sim/index.js';

export interface SimProcess {
  url: string;
  child: ChildProcess;
  /** CPU time the simulator process has used so far, in µs (from /proc; 10 ms resolution). */
  cpuMicros(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = 100;

function procCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat are utime and stime in clock ticks; the command name
    // (field 2) is in parentheses and may hold spaces, so count from the closing one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

export async function spawnSim(options: SimOptions): Promise<SimProcess> {
  const script = new URL('./sim-process.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const [first] = (await once(lines, 'line')) as [string];
  const { url } = JSON.parse(first) as { url: string };
  return {
    url,
    child,
    cpuMicros: () => procCpuMicros(child.pid),
    async stop() {
      child.stdin?.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
