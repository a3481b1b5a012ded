// Durations as people type them on a command line: `500ms`, `30s`, `5m`, `1h`, `1.5s`, `1m30s`.

import { DurationError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Milliseconds in a duration such as "250ms", "1s", "6m0s" or "1h2m3.5s" (also the form of
 * OpenAI's x-ratelimit-reset-* headers), or null when `text` is not one.
 */
export function durationMs(text: string): number | null {
  const trimmed = text.trim();
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(PART)) {
    if (match.index !== consumed) return null;
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    consumed += match[0].length;
  }
  return consumed > 0 && consumed === trimmed.length && Number.isFinite(total) ? total : null;
}


/**
 * Milliseconds in `text`. `name` is what the user typed it for (e.g. `--attempt-timeout`) and is
 * named in the error, together with the value, when `text` is not a duration.
 */
export function parseDuration(text: string, name: string): number {
  const ms = durationMs(text);
  if (ms === null) {
    const trimmed = text.trim();
    const hint = /^\d+(?:\.\d+)?$/.test(trimmed) ? ` (add a unit: ${trimmed}ms or ${trimmed}s?)` : '';
    throw new DurationError(
      `${name}: expected a duration such as 500ms, 30s, 5m or 1h, got ${JSON.stringify(text)}${hint}`,
    );
  }
  return ms;
}

/** A short human form of a duration in ms: `850 ms`, `12.3 s`, `4 m 05 s`, `1 h 02 m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const totalSeconds = Math.round(ms / 1_000);
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} m`;
  return `${minutes} m ${String(seconds).padStart(2, '0')} s`;
}
