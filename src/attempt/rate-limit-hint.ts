// How long the server asks us to pause after a 429, read from the response headers.
// Order of trust: `retry-after-ms`, then `retry-after` (seconds or an HTTP date, at any length),
// then OpenAI's `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` (the longer of the two).

import { durationMs } from '../model/duration.js';
import type { HintSource } from '../model/events.js';

/** A header lookup that works for fetch `Headers` and for plain records. */
export type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

/** One header's value, whatever the shape of `headers`. */
export function readHeader(headers: HeaderSource, name: string): string | null {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name);
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return typeof value === 'string' ? value : null;
}

/** OpenAI's reset durations ("250ms", "6m0s", "1h2m3.5s") are the duration grammar of model/. */
export const parseResetDuration = durationMs;

function nonNegative(ms: number): number | null {
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/** The pause the server asked for, in ms, or null when it gave no usable hint. */
export function rateLimitHintMs(headers: HeaderSource | undefined, nowMs: number): number | null {
  return rateLimitHint(headers, nowMs)?.ms ?? null;
}

/** The pause the server asked for and the header it came from (for the trace), or null. */
export function rateLimitHint(headers: HeaderSource | undefined, nowMs: number): { ms: number; source: Exclude<HintSource, 'default'> } | null {
  if (headers === undefined) return null;

  const retryAfterMs = readHeader(headers, 'retry-after-ms');
  if (retryAfterMs !== null && retryAfterMs.trim() !== '') {
    const ms = nonNegative(Number(retryAfterMs));
    if (ms !== null) return { ms, source: 'retry-after-ms' };
  }

  const retryAfter = readHeader(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return { ms: Number(retryAfter) * 1_000, source: 'retry-after' };
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return { ms: Math.max(0, date - nowMs), source: 'retry-after' };
  }

  const resets = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']
    .map((name) => readHeader(headers, name))
    .map((value) => (value === null ? null : parseResetDuration(value)))
    .filter((ms): ms is number => ms !== null);
  return resets.length > 0 ? { ms: Math.max(...resets), source: 'reset-headers' } : null;
}
