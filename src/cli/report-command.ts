// `batch-llm report results.jsonl [--trace trace.jsonl] [-o report.html] [--group-by FIELD]`:
// the figures of any results file — a finished run's, or a killed one's (a torn last line is
// set aside) — as text on stdout, or as one self-contained HTML page with -o.

import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { UsageError } from '../model/errors.js';

export interface ReportSettings {
  results: string;
  trace: string | undefined;
  out: string | undefined;
  groupBy: string | undefined;
}

export function declareReportCommand(program: Command, action: (settings: ReportSettings) => Promise<void>): Command {
  return program
    .command('report')
    .description('summarize a results file (also a killed run\'s); with -o, write an HTML page with charts')
    .argument('<results>', 'results file (JSONL) written by batch-llm run')
    .option('--trace <file>', 'the run\'s trace (written with run --trace): timeline, cooldowns, 429s, settings, cost (default: none)')
    .option('-o, --out <file>', 'write a self-contained HTML report here (default: none: a text summary on stdout)')
    .option('--group-by <field>', 'group scores by this field of each item\'s value (default: the run\'s --group-by field)')
    .action(async (results: string, raw: { trace?: string; out?: string; groupBy?: string }) => {
      await action({ results, trace: raw.trace, out: raw.out, groupBy: raw.groupBy });
    });
}

export async function reportCommand(settings: ReportSettings, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  // The report's code (the HTML page carries uPlot) loads only for this command.
  const [{ htmlReport }, { resultsFigures }, { textReport }, { traceFigures }] = await Promise.all([
    import('../report/html-report.js'),
    import('../report/results-figures.js'),
    import('../report/text-report.js'),
    import('../report/trace-figures.js'),
  ]);
  const read = async <T>(what: string, path: string, load: () => Promise<T>): Promise<T> => {
    try {
      return await load();
    } catch (error) {
      throw new UsageError(`cannot read the ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const results = await read('results file', settings.results, () => resultsFigures(settings.results, { groupBy: settings.groupBy }));
  const trace = settings.trace === undefined ? null : await read('trace', settings.trace, () => traceFigures(settings.trace ?? ''));
  if (settings.out === undefined) {
    io.stdout.write(`${textReport(results, trace)}\n`);
    return 0;
  }
  await writeFile(settings.out, htmlReport(results, trace));
  io.stderr.write(`batch-llm: report written to ${settings.out}\n`);
  return 0;
}
