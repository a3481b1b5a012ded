// How long the server asks us to pause after a 429, read from the response headers.
// Order of trust: `retry-after-ms`, then `retry-after` (seconds or an HTTP date, at any length),
// then OpenAI's `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` (the longer of the two).

/** A header lookup that works for fetch `Headers` and for plain records. */
export type HeaderSource = { get(name: string): string | null } | Record<string, string | undefined>;

/** One header's value, whatever the shape of `headers`. */
export function readHeader(headers: HeaderSource, name: string): string | null {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name);
  const value = (headers as Record<string, string | undefined>)[name];
  return typeof value === 'string' ? value : null;
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses OpenAI's reset durations such as "250ms", "1s", "6m0s", "1h2m3.5s". */
export function parseResetDuration(text: string): number | null {
  const trimmed = text.trim();
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(DURATION_PART)) {
    if (match.index !== consumed) return null;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed += match[0].length;
  }
  return consumed > 0 && consumed === trimmed.length && Number.isFinite(total) ? total : null;
}

function nonNegative(ms: number): number | null {
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/** The pause the server asked for, in ms, or null when it gave no usable hint. */
export function rateLimitHintMs(headers: HeaderSource | undefined, nowMs: number): number | null {
  if (headers === undefined) return null;

  const retryAfterMs = readHeader(headers, 'retry-after-ms');
  if (retryAfterMs !== null && retryAfterMs.trim() !== '') {
    const ms = nonNegative(Number(retryAfterMs));
    if (ms !== null) return ms;
  }

  const retryAfter = readHeader(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1_000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }

  const resets = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']
    .map((name) => readHeader(headers, name))
    .map((value) => (value === null ? null : parseResetDuration(value)))
    .filter((ms): ms is number => ms !== null);
  return resets.length > 0 ? Math.max(...resets) : null;
}
