// Cutting an item's waits short: at its deadline (its own, or the run's) or when the run stops.
// Every wait of an item — the gate, a permit, a backoff — is raced against one promise per item
// that rejects with the reason, so nothing an item waits for can outlast its clock.

import { ItemFailed, RUN_STOPPED } from '../model/errors.js';

export interface ItemClock {
  /** Epoch ms by which the item must be done (Infinity when no deadline applies). */
  readonly deadline: number;
  /** Rejects with ItemFailed at the deadline or when the run stops; never resolves. */
  readonly interrupt: Promise<never>;
  /** The failure to report when the deadline has passed. */
  expired(): ItemFailed;
  /** Clears the deadline timer. */
  dispose(): void;
}

export interface ClockSettings {
  /** The item's own budget in ms, or null. */
  itemDeadlineMs: number | null;
  /** The run's deadline as epoch ms, or null. */
  runDeadline: number | null;
}

export function startItemClock(settings: ClockSettings, onStop: (listener: () => void) => () => void, now = Date.now()): ItemClock {
  const itemDeadline = settings.itemDeadlineMs === null ? Infinity : now + settings.itemDeadlineMs;
  const runDeadline = settings.runDeadline ?? Infinity;
  const deadline = Math.min(itemDeadline, runDeadline);
  const expired = () =>
    itemDeadline <= runDeadline
      ? new ItemFailed('timeout', `item deadline of ${settings.itemDeadlineMs} ms passed`)
      : new ItemFailed('aborted', 'the run deadline passed');
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  const interrupt = new Promise<never>((_, reject) => {
    if (deadline !== Infinity) timer = setTimeout(() => reject(expired()), Math.max(0, deadline - now));
    unsubscribe = onStop(() => reject(new ItemFailed('aborted', 'the run was stopped', RUN_STOPPED)));
  });
  // Nobody may be racing the interrupt when it fires; that is not an unhandled rejection.
  interrupt.catch(() => {});
  return {
    deadline,
    interrupt,
    expired,
    dispose: () => {
      clearTimeout(timer);
      unsubscribe();
    },
  };
}

/** `wait`, unless the item's clock runs out (or the run stops) first. */
export function interruptible<T>(wait: Promise<T> | T, interrupt: Promise<never> | undefined): Promise<T> | T {
  if (interrupt === undefined || !(wait instanceof Promise)) return wait;
  return Promise.race([wait, interrupt]);
}
