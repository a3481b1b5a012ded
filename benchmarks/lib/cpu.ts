// CPU time of processes, for "CPU µs per item" figures.
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) of another process, in µs, from /proc (10 ms resolution); NaN if unknown. */
export function processCpuMicros(pid: number | undefined, statFile = `/proc/${String(pid)}/stat`): number {
  if (pid === undefined) return Number.NaN;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat are utime and stime in clock ticks; the command name
    // (field 2) is in parentheses and may hold spaces, so count from the closing one.
    const stat = readFileSync(statFile, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** CPU time of this process, all its threads included, in µs. */
export function ownCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU time of each thread of this process (by Linux thread id), in ms (10 ms resolution). */
export function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    const micros = processCpuMicros(Number(tid), `/proc/self/task/${tid}/stat`);
    if (Number.isFinite(micros)) out.set(Number(tid), micros / 1000);
  }
  return out;
}

export interface ThreadSplit {
  /** The main thread (admission, dispatch, results, summary). */
  main_ms: number;
  /** Threads started since `before` was taken: the pool's worker threads. */
  new_threads_ms: number;
  /** The other threads that were already there: V8's GC and compiler helpers, libuv. */
  helpers_ms: number;
}

/**
 * Where CPU time went between two threadCpuMs() snapshots, `from` and `to`. Threads missing from
 * `existing` (a snapshot taken before the pool started) count as the pool's.
 */
export function splitThreadCpu(existing: ReadonlyMap<number, number>, from: ReadonlyMap<number, number>, to: ReadonlyMap<number, number>): ThreadSplit {
  const split: ThreadSplit = { main_ms: 0, new_threads_ms: 0, helpers_ms: 0 };
  for (const [tid, ms] of to) {
    const used = ms - (from.get(tid) ?? 0);
    if (tid === process.pid) split.main_ms += used;
    else if (!existing.has(tid)) split.new_threads_ms += used;
    else split.helpers_ms += used;
  }
  return split;
}
