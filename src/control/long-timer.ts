// Timers for waits of any length. Node's setTimeout holds at most 2^31 − 1 ms (about 24.8 days)
// and fires anything longer after 1 ms, with a TimeoutOverflowWarning: a 600 h run deadline would
// abort every item at once, a 30-day Retry-After would spin the cooldown keeper on 1 ms timers.
// These timers wait in steps of at most that cap and re-arm until the whole time has passed.

/** The longest delay setTimeout keeps (ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/** Calls `callback` once `ms` have passed (Infinity: never), however long that is. */
export function setLongTimeout(callback: () => void, ms: number): LongTimer {
  let timer: NodeJS.Timeout | undefined;
  const dueAt = performance.now() + ms;
  const arm = (): void => {
    const left = dueAt - performance.now();
    if (left <= 0) callback();
    else if (left !== Infinity) timer = setTimeout(left > MAX_TIMER_MS ? arm : callback, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

/** A promise that resolves after `ms`, however long that is. */
export function sleepLong(ms: number): Promise<void> {
  return new Promise((resolve) => setLongTimeout(resolve, ms));
}
