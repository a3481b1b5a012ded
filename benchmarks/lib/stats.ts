// Small statistics helpers for benchmark output.

export interface Spread {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarize(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, min: round3(at(0)), p50: round3(at(0.5)), p99: round3(at(0.99)), max: round3(at(1)) };
}

/** Median of repeated runs, with min and max as the spread. */
export function median(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const m = sorted.length % 2 ? (sorted[Math.floor(mid)] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median: round3(m), min: round3(sorted[0] ?? 0), max: round3(sorted[sorted.length - 1] ?? 0) };
}
