// Draws the report from benchmarks/results.json: one SVG chart per scenario in benchmarks/charts/
// (hand-written SVG, no chart library) and the tables of benchmarks/README.md, between the
// markers `<!-- results:start -->` and `<!-- results:end -->`. The page is regenerated, never
// edited by hand: every figure in it comes from results.json. The parts live in benchmarks/report/:
// read.ts (results.json → typed data), draw.ts (SVG), tables.ts (markdown), sections.ts (one
// section per scenario); this file puts the page together and writes it.
//
//   npx tsx benchmarks/charts.ts [--results benchmarks/results.json]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, share } from './report/format.js';
import { isRecord, num, readResults, shownResult, str } from './report/read.js';
import { SECTIONS } from './report/sections.js';
import { withResultsBlock } from './report/tables.js';

/** Reads `resultsPath`, writes the charts next to it and the tables into its README.md. */
export function renderReport(resultsPath: string): void {
  const dir = dirname(resultsPath);
  const chartsDir = join(dir, 'charts');
  mkdirSync(chartsDir, { recursive: true });
  const { data, machine, scenarios } = readResults(resultsPath);
  const out: string[] = [];
  out.push(
    `Machine: ${str(machine, 'cpu')}, ${fmt(num(machine, 'cores'), 0)} cores, ${fmt(num(machine, 'memory_gb'), 0)} GB, ` +
      `Node ${str(machine, 'node')} (${str(machine, 'platform')}). Results updated ${str(data, 'updated')}.`,
    '',
  );
  for (const [name, section] of Object.entries(SECTIONS)) {
    const result = shownResult(scenarios[name]);
    if (result === null) continue;
    const { tables, charts } = section.render(result);
    const mode = str(result, 'mode');
    out.push(`### ${section.title}`, '', section.about, '');
    for (const chart of charts) {
      const file = join(chartsDir, `${chart.name}.svg`);
      writeFileSync(file, chart.svg);
      out.push(`![${chart.name}](${relative(dir, file)})`, '');
    }
    out.push(tables, '');
    const runs = num(result, 'runs');
    out.push(
      `<sub>${mode === 'quick' ? '**Quick run** (small; a smoke check, not for comparison). ' : ''}` +
        `${str(result, 'date')} · ${runs === null ? '' : `${fmt(runs, 0)} run(s), median (min–max) · `}` +
        `CPU used by other processes meanwhile: ${share(num(result, 'foreign_cpu_share'))} · ` +
        `code: ${str(isRecord(result['source']) ? result['source'] : {}, 'commit') || 'unknown'}` +
        `${result['source_changed'] === true ? ' (**changed during the run**: the result mixes two versions)' : ''} · ` +
        `rerun: \`${str(result, 'rerun')}\`</sub>`,
      '',
    );
  }
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) {
    process.stderr.write(`charts: no ${readme}; wrote the charts only\n`);
    return;
  }
  writeFileSync(readme, withResultsBlock(readme, readFileSync(readme, 'utf8'), out));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { results: { type: 'string', default: new URL('./results.json', import.meta.url).pathname } } });
  renderReport(values.results);
}
