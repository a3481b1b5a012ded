// SVG bar charts, hand-written (no chart library: one chart kind, and a library would pull a DOM or
// canvas into the benchmarks for it). Batch-llm's bars in colour, baselines in grey.
import { fmt } from './format.js';

export interface Bar {
  label: string;
  value: number;
  min?: number | undefined;
  max?: number | undefined;
  /** batch-llm's own bars are drawn in colour, the baselines in grey. */
  ours: boolean;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface Chart {
  title: string;
  subtitle: string;
  unit: string;
  groups: BarGroup[];
  lines?: Array<{ value: number; label: string }>;
  digits?: number;
}

const esc = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A round axis maximum at or above `value` (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8 × a power of ten: quarters stay round). */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) if (step * power >= value * 1.0001) return step * power;
  return 10 * power;
}

/** A horizontal bar chart: one row per bar, grouped, with min–max whiskers and reference lines. */
export function barChart(chart: Chart): string {
  const width = 820;
  const labelWidth = 250;
  const valueWidth = 90;
  const plotLeft = labelWidth + 10;
  const plotWidth = width - plotLeft - valueWidth;
  const rowHeight = 22;
  const groupGap = chart.groups.length > 1 ? 22 : 0;
  const top = 58;
  const bars = chart.groups.flatMap((g) => g.bars);
  const maxValue = niceMax(Math.max(...bars.map((b) => Math.max(b.value, b.max ?? 0)), ...(chart.lines ?? []).map((l) => l.value)));
  const x = (v: number) => plotLeft + (Math.max(0, v) / maxValue) * plotWidth;
  const rows = chart.groups.reduce((n, g) => n + g.bars.length, 0);
  const height = top + rows * rowHeight + chart.groups.length * groupGap + 40;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600" fill="#111">${esc(chart.title)}</text>`,
    `<text x="12" y="40" fill="#555">${esc(chart.subtitle)}</text>`,
  );
  const plotBottom = height - 30;
  // Grid and axis labels.
  for (let i = 0; i <= 4; i += 1) {
    const v = (maxValue * i) / 4;
    parts.push(
      `<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${plotBottom}" stroke="#e5e5e5"/>`,
      `<text x="${x(v)}" y="${plotBottom + 14}" text-anchor="middle" fill="#666">${esc(fmt(v, chart.digits))}</text>`,
    );
  }
  parts.push(`<text x="${labelWidth}" y="${plotBottom + 14}" text-anchor="end" fill="#666">${esc(chart.unit)}</text>`);
  let y = top;
  for (const group of chart.groups) {
    if (chart.groups.length > 1) {
      parts.push(`<text x="12" y="${y + 12}" font-weight="600" fill="#333">${esc(group.label)}</text>`);
      y += groupGap;
    }
    for (const bar of group.bars) {
      const colour = bar.ours ? '#2563eb' : '#9ca3af';
      parts.push(
        `<text x="${labelWidth}" y="${y + 15}" text-anchor="end" fill="#222">${esc(bar.label)}</text>`,
        `<rect x="${plotLeft}" y="${y + 4}" width="${Math.max(1, x(bar.value) - plotLeft)}" height="${rowHeight - 8}" fill="${colour}" rx="2"/>`,
      );
      if (bar.min !== undefined && bar.max !== undefined && bar.max > bar.min) {
        const mid = y + rowHeight / 2;
        parts.push(
          `<line x1="${x(bar.min)}" y1="${mid}" x2="${x(bar.max)}" y2="${mid}" stroke="#111" stroke-width="1.2"/>`,
          `<line x1="${x(bar.min)}" y1="${mid - 4}" x2="${x(bar.min)}" y2="${mid + 4}" stroke="#111" stroke-width="1.2"/>`,
          `<line x1="${x(bar.max)}" y1="${mid - 4}" x2="${x(bar.max)}" y2="${mid + 4}" stroke="#111" stroke-width="1.2"/>`,
        );
      }
      parts.push(`<text x="${plotLeft + plotWidth + 8}" y="${y + 15}" fill="#222">${esc(fmt(bar.value, chart.digits))}</text>`);
      y += rowHeight;
    }
  }
  // Reference lines; their labels alternate above and below the plot so close lines stay legible.
  (chart.lines ?? []).forEach((line, i) => {
    const labelY = i % 2 === 0 ? top - 8 : plotBottom + 27;
    parts.push(
      `<line x1="${x(line.value)}" y1="${top - 6}" x2="${x(line.value)}" y2="${plotBottom}" stroke="#dc2626" stroke-dasharray="4 3"/>`,
      `<text x="${x(line.value) + 3}" y="${labelY}" fill="#dc2626">${esc(line.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
