// Numbers as people read them in progress lines, summaries and reports: "12,345".
//
// Whole numbers (every count we print) are grouped here rather than by Intl.NumberFormat: the
// first Intl formatter of a process loads ICU's locale data, 25–40 ms of CPU on this project's
// 2-core machine, and a run paid it in its closing summary — after its last item, before it
// exits (benchmarks/README.md, "Ninth pass"). Anything else (a fraction, ±Infinity, NaN, -0, an
// integer past 2^53) still goes to Intl, built on first use, so every value reads exactly as
// `Intl.NumberFormat('en-US').format(n)` would print it.

let formatter: Intl.NumberFormat | null = null;

/** `n` with en-US digit grouping, as `Intl.NumberFormat('en-US').format(n)`. */
export function formatNumber(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) {
    formatter ??= new Intl.NumberFormat('en-US');
    return formatter.format(n);
  }
  const digits = String(Math.abs(n));
  let grouped = digits.slice(0, digits.length % 3 || 3);
  for (let at = grouped.length; at < digits.length; at += 3) grouped += `,${digits.slice(at, at + 3)}`;
  return n < 0 ? `-${grouped}` : grouped;
}
