// Backoff after a transient failure: exponential with full jitter (a uniformly random delay up to
// a ceiling that doubles per attempt), so retries of a failed burst spread out instead of
// returning together.

/** The delay before attempt `attempt + 1`, after `attempt` (>= 1) failed attempts. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return random() * ceiling;
}
