// What every scenario script prints: one JSON object on stdout, with the machine it ran on, so a
// figure is never separated from its context. run-all.ts collects these objects.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { basename } from 'node:path';

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  node: string;
  platform: string;
  /**
   * The 1-minute load average when the scenario started. Near 0 on an idle machine; anything
   * else running (another build, a test run) competes for the same cores and lowers the figures.
   */
  load_at_start: number;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    load_at_start: round(loadavg()[0] ?? 0, 2),
  };
}

/** Rounds to `digits` decimals (3 by default): enough for ratios and items/s, short in JSON. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** a ÷ b rounded, or null when b is 0 (a ratio against a run that did nothing). */
export function ratio(a: number, b: number): number | null {
  return b === 0 || !Number.isFinite(a / b) ? null : round(a / b);
}

/** Prints the scenario's result as the one JSON object on stdout. */
/**
 * The code measured: the commit, and a fingerprint of src/ and threads/ as they are on disk (their
 * committed trees plus any uncommitted change). Worker threads load those files each time a run
 * starts, so an edit during a long scenario would mix two versions of the code in one result;
 * `source_changed` says so. Commits that touch only other files leave the fingerprint alone.
 */
export function source(): { commit: string; fingerprint: string } {
  const root = new URL('../..', import.meta.url).pathname;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const trees = git('rev-parse', 'HEAD:src', 'HEAD:threads');
    const diff = git('diff', 'HEAD', '--', 'src', 'threads');
    const untracked = git('ls-files', '--others', '--exclude-standard', '--', 'src', 'threads');
    const fingerprint = createHash('sha256').update(trees).update(diff).update(untracked).digest('hex').slice(0, 12);
    return { commit: diff === '' && untracked === '' ? commit : `${commit}+changes`, fingerprint };
  } catch {
    return { commit: 'unknown', fingerprint: 'unknown' };
  }
}

const atStart = machine();
const sourceAtStart = source();

export function printResult(scenario: string, mode: 'quick' | 'full', result: Record<string, unknown>): void {
  // The command that reproduces this result, with the arguments it was given.
  const rerun = ['npx tsx', `benchmarks/${basename(process.argv[1] ?? `${scenario}.ts`)}`, ...process.argv.slice(2)].join(' ');
  const sourceAtEnd = source();
  const out = {
    scenario,
    mode,
    date: new Date().toISOString(),
    machine: atStart,
    load_at_end: round(loadavg()[0] ?? 0, 2),
    source: sourceAtStart,
    source_changed: sourceAtEnd.fingerprint !== sourceAtStart.fingerprint,
    rerun,
    ...result,
  };
  if (out.source_changed) log(`${scenario}: src/ or threads/ changed during the run (${sourceAtStart.fingerprint} -> ${sourceAtEnd.fingerprint}): the result mixes two versions`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** Logs progress on stderr, so stdout stays one JSON object. */
export function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
