// `batch-llm compact <results.jsonl> -o <out.jsonl>`: the results file with exactly one line per
// item — its final outcome, in input order (io/compact.ts). Refuses to write over its own input
// (by device and inode: a symlink or hard link to it too) and, without --overwrite, over any
// existing non-empty file. The meta file goes along, so the compacted file can be reported on and
// resumed like the original.

import { constants } from 'node:fs';
import { copyFile, rename, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { metaPathFor } from '../io/checkpoint.js';
import { compactResults } from '../io/compact.js';
import { UsageError } from '../model/errors.js';

export interface CompactSettings {
  results: string;
  out: string;
  overwrite: boolean;
}

export function declareCompactCommand(program: Command, action: (settings: CompactSettings) => Promise<void>): Command {
  return program
    .command('compact')
    .description(
      'write one line per item of a results file: its final outcome (its success if it has one, else its last line), in input order ' +
        '(by each line\'s batch_llm.line; the input file is not needed)',
    )
    .argument('<results>', 'results file (JSONL) written by batch-llm run, resumed or not')
    .requiredOption('-o, --out <file>', 'where to write the compacted file (required; never the results file itself); <out>.meta.json gets a copy of the meta file')
    .option('--overwrite', 'replace --out if it exists (default: refuse a non-empty one)')
    .action(async (results: string, raw: { out: string; overwrite?: boolean }) => {
      await action({ results, out: raw.out, overwrite: raw.overwrite === true });
    });
}

async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  return stat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  });
}

export async function compactCommand(settings: CompactSettings, io: { stderr: NodeJS.WritableStream }): Promise<number> {
  const source = await statOrNull(settings.results);
  if (source === null || !source.isFile()) throw new UsageError(`cannot read the results file ${settings.results}: ${source === null ? 'no such file' : 'not a regular file'}`);
  for (const [from, to] of [
    [settings.results, settings.out],
    [metaPathFor(settings.results), metaPathFor(settings.out)],
  ] as const) {
    const a = await statOrNull(from);
    const b = await statOrNull(to);
    if (a !== null && b !== null && a.dev === b.dev && a.ino === b.ino) {
      throw new UsageError(`--out ${to} is ${from} (the same file${to === from ? '' : ' under another name'}): compacting into it would destroy it; write elsewhere`);
    }
  }
  const target = await statOrNull(settings.out);
  if (target !== null && target.size > 0 && !settings.overwrite) {
    throw new UsageError(`${settings.out} already exists and is not empty; use --overwrite to replace it`);
  }
  const report = await compactResults(settings.results, settings.out).catch((error: unknown) => {
    throw new UsageError(`cannot compact ${settings.results} into ${settings.out}: ${error instanceof Error ? error.message : String(error)}`);
  });
  const meta = metaPathFor(settings.results);
  if ((await statOrNull(meta)) !== null) {
    const temporary = `${metaPathFor(settings.out)}.${process.pid}.tmp`;
    await copyFile(meta, temporary, constants.COPYFILE_EXCL);
    await rename(temporary, metaPathFor(settings.out));
  }
  io.stderr.write(
    `batch-llm: compacted ${settings.results} (${report.read} lines) into ${settings.out}: ${report.written} items, one line each, ${report.succeeded} succeeded` +
      (report.unreadable > 0 ? `; ${report.unreadable} unreadable line(s) skipped` : '') +
      '\n',
  );
  return 0;
}
