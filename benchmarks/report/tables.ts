// Markdown for benchmarks/README.md: a table, and the regenerated block between the
// `<!-- results:start -->` and `<!-- results:end -->` markers (the rest of the page is hand-written).

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

/** `text` (the README) with the results block replaced by `lines`; `readme` names it in errors. */
export function withResultsBlock(readme: string, text: string, lines: readonly string[]): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${readme} lacks the ${START} … ${END} markers`);
  return `${text.slice(0, start + START.length)}\n\n${lines.join('\n')}\n${text.slice(end)}`;
}
