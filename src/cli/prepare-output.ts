// Settling the results file before a run: a new file, --overwrite, or --resume (fingerprint check,
// torn-line repair, the set of items already done). Then the run's fingerprint is recorded.

import { open, stat, truncate } from 'node:fs/promises';
import {
  fingerprintDifferences,
  metaPathFor,
  readCheckpoint,
  readMeta,
  writeMeta,
  type Checkpoint,
  type RunFingerprint,
} from '../io/checkpoint.js';
import { UsageError } from '../model/errors.js';

export interface OutputPlan {
  out: string;
  resume: boolean;
  forceResume: boolean;
  overwrite: boolean;
  fingerprint: RunFingerprint;
  /** Non-blank lines of the input file (null for a pipe): those without a result line are not started yet. */
  inputLines: number | null;
}

async function existing(path: string): Promise<{ size: number; isFile: boolean } | null> {
  try {
    const info = await stat(path);
    return { size: info.size, isFile: info.isFile() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot use --out ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Makes `plan.out` ready to append to and writes the fingerprint next to it. Resolves with the
 * checkpoint when resuming a non-empty file, else null. Throws UsageError when the file is in the
 * way (exists without --resume/--overwrite) or belongs to a different run.
 */
export async function prepareOutput(plan: OutputPlan, say: (message: string) => void): Promise<Checkpoint | null> {
  const { out } = plan;
  const metaPath = metaPathFor(out);
  const file = await existing(out);
  if (file !== null && !file.isFile) throw new UsageError(`--out ${out} is not a regular file`);
  let checkpoint: Checkpoint | null = null;

  if (file !== null && file.size > 0 && !plan.resume) {
    if (!plan.overwrite) {
      throw new UsageError(`${out} already exists and is not empty; use --resume to continue that run or --overwrite to start over`);
    }
    await truncate(out, 0);
  } else if (plan.resume && (file === null || file.size === 0)) {
    say(`nothing to resume in ${out}; starting a new run`);
  } else if (plan.resume) {
    const meta = await readMeta(metaPath);
    if (meta.kind === 'found') {
      const differences = fingerprintDifferences(meta.meta.fingerprint, plan.fingerprint);
      if (differences.length > 0 && !plan.forceResume) {
        throw new UsageError(
          `cannot resume ${out}: it was written by a different run (${differences.join('; ')}). ` +
            'Use --force-resume to resume it anyway, or --overwrite to start over.',
        );
      }
      if (differences.length > 0) say(`--force-resume: resuming although ${differences.join('; ')}`);
    } else {
      say(
        `no usable run fingerprint in ${metaPath} (${meta.kind === 'missing' ? 'missing' : meta.reason}); ` +
          'cannot check that this is the same run; resuming anyway',
      );
    }
    checkpoint = await readCheckpoint(out);
    if (checkpoint.torn !== null) {
      say(
        `${out} ended in a torn line (${checkpoint.torn.bytes} bytes, from an interrupted write); ` +
          `moved it to ${checkpoint.torn.sidePath} and resuming after the last whole line`,
      );
    }
    if (checkpoint.corrupt.length > 0) {
      const shown = checkpoint.corrupt.slice(0, 5).join(', ') + (checkpoint.corrupt.length > 5 ? ', …' : '');
      say(`${out}: ignoring ${checkpoint.corrupt.length} unreadable line(s) (line ${shown})`);
    }
    // Lines of the input with no result line: a stopped run never read them (checkpoint.ts RunEnd).
    const notStarted = plan.inputLines === null ? null : Math.max(0, plan.inputLines - checkpoint.inputLines.size);
    say(
      `resuming ${out}: ${checkpoint.succeeded.size} item(s) already succeeded and are skipped; ` +
        `${checkpoint.failed} failed and ${checkpoint.aborted} aborted item(s) run again` +
        (notStarted === null ? '' : `; ${notStarted} not started yet (no line in the file) run now`),
    );
  }
  await writeMeta(metaPath, plan.fingerprint);
  // Made now rather than at the first line, so that the run can lock it by identity (run-lock.ts).
  await (await open(out, 'a')).close();
  return checkpoint;
}
