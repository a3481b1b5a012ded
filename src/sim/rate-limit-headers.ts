/**
 * The headers through which the simulator tells clients about rate limits: the pause hint of a 429 in
 * each form real providers use, and OpenAI's `x-ratelimit-*` family.
 */
import type { RateLimitHint } from './options.js';

/**
 * A duration in OpenAI's `x-ratelimit-reset-*` format, which is Go's `time.Duration` notation:
 * `"0s"`, `"250ms"`, `"1s"`, `"1.5s"`, `"6m0s"`, `"1h2m3s"`. Rounded up to whole milliseconds so a
 * client never pauses shorter than asked.
 */
export function formatOpenAIDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${(total % 60_000) / 1000}s`; // e.g. 1.5 → "1.5s", 0 → "0s"
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** Headers that carry a 429's pause hint. `nowEpochMs` is needed only for the HTTP-date form. */
export function hintHeaders(hint: RateLimitHint, nowEpochMs: number): Record<string, string> {
  switch (hint.header) {
    case 'retry-after-ms':
      return { 'retry-after-ms': String(Math.ceil(hint.ms)) };
    case 'retry-after':
      return { 'retry-after': String(Math.ceil(hint.ms / 1000)) };
    case 'retry-after-date':
      // HTTP-dates have whole seconds: round the instant up so the pause is never shorter than `ms`.
      return { 'retry-after': new Date(Math.ceil((nowEpochMs + hint.ms) / 1000) * 1000).toUTCString() };
    case 'x-ratelimit-reset-requests':
    case 'x-ratelimit-reset-tokens':
      return { [hint.header]: formatOpenAIDuration(hint.ms) };
    case 'none':
      return {};
  }
}

/** A snapshot of one sliding window, in OpenAI's per-minute units. */
export interface LimitSnapshot {
  /** The configured per-minute limit. */
  readonly limit: number;
  /** Budget left, scaled to per-minute units like `limit`, rounded down. */
  readonly remaining: number;
  /** Milliseconds until the window is empty again. */
  readonly resetMs: number;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for whichever limits are set. */
export function limitHeaders(
  requests: LimitSnapshot | undefined,
  tokens: LimitSnapshot | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (requests !== undefined) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(requests.remaining);
    headers['x-ratelimit-reset-requests'] = formatOpenAIDuration(requests.resetMs);
  }
  if (tokens !== undefined) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit);
    headers['x-ratelimit-remaining-tokens'] = String(tokens.remaining);
    headers['x-ratelimit-reset-tokens'] = formatOpenAIDuration(tokens.resetMs);
  }
  return headers;
}
