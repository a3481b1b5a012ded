// The worker threads of a `batch-llm run`, started by the CLI's entry before the rest of the CLI
// loads. A thread takes ~100–200 ms from its creation to its first request, most of it Node's
// own start of the thread and the import of our worker bundle; started once the options and the
// task are checked (run-command.ts), they began ~120–180 ms after the process did, behind the
// loading of the CLI's modules, and the first request waited for them. Started here, they boot
// while those modules load (benchmarks/startup.ts; benchmarks/README.md, "Tenth pass").
//
// The pool's shape (threads, concurrency, memory: run/thread-count.ts poolShape) comes from the
// run's resolved options, which are not parsed yet. So this is a guess from the command line, made
// only where the answer needs nothing but the flags: no --task (whose module decides the default
// thread count), no Batch API or Redis run (they start no pool of their own here), no --help. The
// run adopts the pool only if its real shape is the same (prestart.ts `fits`); otherwise it closes
// this one and starts its own — a wrong guess costs a thread start, never a wrong pool.

import { PrestartedPool, type PoolShape } from '../pool/prestart.js';
import { DEFAULT_CONCURRENCY } from '../run/options.js';
import { poolShape } from '../run/thread-count.js';
import { flagValue } from './argv-flag.js';

/** Flags after which the shape, or whether there is a pool at all, is not the flags' alone. */
const UNGUESSABLE = ['--task', '--via', '--redis', '--help', '-h'];

/** A flag's whole number: undefined if absent, null if not a whole number ≥ 1 (the run will refuse it). */
function wholeFlag(args: readonly string[], flag: string): number | null | undefined {
  const text = flagValue(args, flag);
  if (text === undefined) return undefined;
  return /^[1-9]\d*$/.test(text) ? Number(text) : null;
}

/** The pool a `batch-llm run` with these arguments will ask for, when the flags alone say. */
export function guessPoolShape(argv: readonly string[]): PoolShape | null {
  if (argv[2] !== 'run') return null;
  const args = argv.slice(3);
  if (args.some((arg) => UNGUESSABLE.some((flag) => arg === flag || arg.startsWith(`${flag}=`)))) return null;
  const threads = wholeFlag(args, '--threads');
  const concurrency = wholeFlag(args, '--concurrency');
  const memoryMb = wholeFlag(args, '--thread-memory');
  // A value the options will refuse: the run ends with a usage error, before any thread is needed.
  if (threads === null || concurrency === null || memoryMb === null) return null;
  // The run's own rule, for a run without a task.
  const options = { concurrency: concurrency ?? DEFAULT_CONCURRENCY, ...(threads === undefined ? {} : { threads }), ...(memoryMb === undefined ? {} : { threadMemoryMb: memoryMb }) };
  return poolShape(options, undefined);
}

/** Starts the threads a `batch-llm run` with these arguments will ask for, or null if the flags do not say. */
export function startEarlyThreads(argv: readonly string[]): PrestartedPool | null {
  const shape = guessPoolShape(argv);
  if (shape === null) return null;
  try {
    return new PrestartedPool(shape);
  } catch {
    // Nothing is lost: the run starts its own pool, and reports what fails then.
    return null;
  }
}
