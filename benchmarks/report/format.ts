// How figures are written, the same in the README tables and on the charts' axes and labels.
import type { Spread } from './read.js';

/** A figure with sensible precision: 12,345 · 123 · 12.3 · 1.23 · 0.123. */
export function fmt(value: number | null | undefined, digits?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** "median (min–max)", or just the median when the runs agree or there was one. */
export function fmtSpread(s: Spread | null, digits?: number): string {
  if (s === null) return '–';
  if (s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/** A share in [0, 1] as a percentage of the machine. */
export function share(value: number | null): string {
  return value === null ? '–' : `${fmt(value * 100, 1)} % of the machine`;
}
