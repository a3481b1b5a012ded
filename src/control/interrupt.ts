// Cutting an item's waits short: at its deadline (its own, or the run's) or when the run stops.
// Every wait of an item — the gate, a permit, a backoff — is raced against one promise per item
// that rejects with the reason, so nothing an item waits for can outlast its clock.

import { ItemFailed, RUN_STOPPED } from '../model/errors.js';
import { setLongTimeout, type LongTimer } from './long-timer.js';
import type { Cancellation } from './stop.js';

export interface ItemClock {
  /** Epoch ms by which the item must be done (Infinity when no deadline applies). */
  readonly deadline: number;
  /**
   * The item's own deadline (epoch ms, Infinity for none). A wait that would outlast it fails the
   * item at once; a wait that would only outlast the run's deadline is waited out until then —
   * the run ends at its deadline (exit 3, resumable), not before it with items failed early.
   */
  readonly itemDeadline: number;
  /** Rejects with ItemFailed at the deadline or when the run stops; never resolves. */
  readonly interrupt: Promise<never>;
  /** Rejects with ItemFailed at the deadline only (a stop leaves it alone); never resolves. */
  readonly timeUp: Promise<never>;
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
  // The two promises, their timer and the stop subscription are made on the first wait that
  // needs them: most items never wait (the gate open, a permit free, no backoff), and making
  // them for every item was ~4 % of a worker thread's garbage (V8's sampling heap profiler).
  // Made late they behave the same: the timer fires at once for a deadline already passed, and
  // subscribe() calls back at once for a stop that already came.
  let timer: LongTimer | undefined;
  let timeUp: Promise<never> | undefined;
  let interrupt: Promise<never> | undefined;
  let unsubscribe: (() => void) | undefined;
  let disposed = false;
  const makeTimeUp = (): Promise<never> =>
    new Promise<never>((_, reject) => {
      if (deadline !== Infinity && !disposed) timer = setLongTimeout(() => reject(expired()), Math.max(0, deadline - Date.now()));
    });
  const makeInterrupt = (): Promise<never> => {
    let stopped: (reason: ItemFailed) => void = () => {};
    const made = new Promise<never>((_, reject) => {
      stopped = reject;
    });
    (timeUp ??= makeTimeUp()).catch(stopped);
    if (!disposed) unsubscribe = onStop(() => stopped(new ItemFailed('aborted', 'the run was stopped', RUN_STOPPED)));
    // Nobody may be racing it when it fires; that is not an unhandled rejection.
    made.catch(() => {});
    return made;
  };
  return {
    deadline,
    itemDeadline,
    get interrupt() {
      return (interrupt ??= makeInterrupt());
    },
    get timeUp() {
      return (timeUp ??= makeTimeUp());
    },
    expired,
    dispose: () => {
      disposed = true;
      timer?.clear();
      unsubscribe?.();
    },
  };
}

/** `wait`, unless the item's clock runs out (or the run stops) first. */
export function interruptible<T>(wait: Promise<T> | T, interrupt: Promise<never> | undefined): Promise<T> | T {
  if (interrupt === undefined || !(wait instanceof Promise)) return wait;
  return Promise.race([wait, interrupt]);
}

/** Bounds for code that is not ours (a task's stages): see {@link taskScope}. */
export interface TaskScope {
  /** Given to the task code: aborted when the item's time is up or the run is cancelled. */
  readonly signal: AbortSignal;
  /** Rejects with the reason when `signal` aborts: race the task code against it. */
  readonly ended: Promise<never>;
  dispose(): void;
}

/**
 * The item's scope for task code. Not cut short by a drain (like an attempt on the wire, task code
 * that has started may finish), only by the item's deadline or a cancel. The AbortSignal is made
 * only when the task code asks for it: most never do, and an AbortController costs ~5 µs.
 */
export function taskScope(clock: ItemClock, cancellation: Cancellation): TaskScope {
  let controller: AbortController | null = null;
  let reason: unknown;
  let over = false;
  let reject: (why: unknown) => void = () => {};
  const ended = new Promise<never>((_, rejectEnded) => (reject = rejectEnded));
  ended.catch(() => {});
  const end = (why: unknown): void => {
    if (over) return;
    over = true;
    reason = why;
    reject(why);
    controller?.abort(why);
  };
  const unsubscribe = cancellation.onCancel(() => end(new ItemFailed('aborted', 'the run was stopped', RUN_STOPPED)));
  clock.timeUp.catch(end);
  return {
    get signal() {
      if (controller === null) {
        controller = new AbortController();
        if (over) controller.abort(reason);
      }
      return controller.signal;
    },
    ended,
    dispose: unsubscribe,
  };
}
