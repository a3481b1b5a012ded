// The pool the CLI's entry starts from the command line alone, before the rest of the CLI loads
// (src/cli/early-threads.ts): a guess the run checks (prestart.ts fits), made only where the flags
// decide the shape.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { guessPoolShape } from '../../src/cli/early-threads.js';
import { threadsFor } from '../../src/run/thread-count.js';

const run = (...args: string[]): string[] => ['node', 'batch-llm', 'run', 'in.jsonl', '-o', 'out.jsonl', ...args];

describe('the threads started by the entry', () => {
  it('take the shape of the flags, with the run defaults for what they leave out', () => {
    expect(guessPoolShape(run())).toEqual({ threads: threadsFor(false, availableParallelism()), concurrency: 64, memoryMb: undefined });
    expect(guessPoolShape(run('--threads', '3', '--concurrency=256', '--thread-memory', '512'))).toEqual({ threads: 3, concurrency: 256, memoryMb: 512 });
    // The last of a repeated flag counts, as in commander.
    expect(guessPoolShape(run('--threads', '3', '--threads=2'))?.threads).toBe(2);
  });

  it('are not started where the flags do not decide the pool, or where the run will refuse them', () => {
    for (const args of [['--task', 't.ts'], ['--task=t.ts'], ['--via', 'batch-api'], ['--redis', 'redis://x'], ['--help'], ['-h'], ['--threads', '0'], ['--concurrency', 'many'], ['--threads']]) {
      expect(guessPoolShape(run(...args)), args.join(' ')).toBeNull();
    }
    expect(guessPoolShape(['node', 'batch-llm', 'sim', '--threads', '2'])).toBeNull();
    expect(guessPoolShape(['node', 'batch-llm', '--version'])).toBeNull();
  });
});
