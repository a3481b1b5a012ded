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
  return new LazyItemClock(settings, onStop, now);
}

/**
 * The two promises, their timer and the stop subscription are made on the first wait that needs
 * them: most items never wait (the gate open, a permit free, no backoff), and making them for
 * every item was ~4 % of a worker thread's garbage (V8's sampling heap profiler). Made late they
 * behave the same: the timer fires at once for a deadline already passed, and `onStop` calls back
 * at once for a stop that already came. A class, not an object literal with getters: V8 builds a
 * literal with accessors through a slow runtime path (~0.7 µs each, against ~0.03 µs here).
 */
class LazyItemClock implements ItemClock {
  readonly deadline: number;
  readonly itemDeadline: number;
  readonly #itemDeadlineMs: number | null;
  readonly #runDeadline: number;
  readonly #onStop: (listener: () => void) => () => void;
  #timer: LongTimer | undefined;
  #timeUp: Promise<never> | undefined;
  #interrupt: Promise<never> | undefined;
  #unsubscribe: (() => void) | undefined;
  #disposed = false;

  constructor(settings: ClockSettings, onStop: (listener: () => void) => () => void, now: number) {
    this.#itemDeadlineMs = settings.itemDeadlineMs;
    this.itemDeadline = settings.itemDeadlineMs === null ? Infinity : now + settings.itemDeadlineMs;
    this.#runDeadline = settings.runDeadline ?? Infinity;
    this.deadline = Math.min(this.itemDeadline, this.#runDeadline);
    this.#onStop = onStop;
  }

  get timeUp(): Promise<never> {
    return (this.#timeUp ??= new Promise<never>((_, reject) => {
      if (this.deadline !== Infinity && !this.#disposed) this.#timer = setLongTimeout(() => reject(this.expired()), Math.max(0, this.deadline - Date.now()));
    }));
  }

  get interrupt(): Promise<never> {
    if (this.#interrupt !== undefined) return this.#interrupt;
    let stopped: (reason: ItemFailed) => void = () => {};
    const made = new Promise<never>((_, reject) => {
      stopped = reject;
    });
    this.timeUp.catch(stopped);
    if (!this.#disposed) this.#unsubscribe = this.#onStop(() => stopped(new ItemFailed('aborted', 'the run was stopped', RUN_STOPPED)));
    // Nobody may be racing it when it fires; that is not an unhandled rejection.
    made.catch(() => {});
    return (this.#interrupt = made);
  }

  expired(): ItemFailed {
    return this.itemDeadline <= this.#runDeadline
      ? new ItemFailed('timeout', `item deadline of ${this.#itemDeadlineMs} ms passed`)
      : new ItemFailed('aborted', 'the run deadline passed');
  }

  dispose(): void {
    this.#disposed = true;
    this.#timer?.clear();
    this.#unsubscribe?.();
  }
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
 * that has started may finish), only by the item's deadline or a cancel.
 */
export function taskScope(clock: ItemClock, cancellation: Cancellation): TaskScope {
  return new LazyTaskScope(clock, cancellation);
}

/**
 * Nothing is made until the task code asks for the signal, or a stage that returned a promise
 * is raced against `ended`: most stages are synchronous (a post-processing function, a canned
 * call) and never need either. Made late it behaves the same: a cancel that already came calls
 * back at once, and the clock's timer fires at once for a deadline already passed. Made for every
 * item, they, the race and the stage context's getter literal were 6–11 µs of a pool thread's CPU
 * per item at 2 threads (benchmarks/README.md, "Seventh pass").
 */
class LazyTaskScope implements TaskScope {
  readonly #clock: ItemClock;
  readonly #cancellation: Cancellation;
  #controller: AbortController | null = null;
  #ended: Promise<never> | null = null;
  #reject: (why: unknown) => void = () => {};
  #watching = false;
  #disposed = false;
  #over = false;
  #reason: unknown;
  #unsubscribe: () => void = () => {};

  constructor(clock: ItemClock, cancellation: Cancellation) {
    this.#clock = clock;
    this.#cancellation = cancellation;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#over) this.#controller.abort(this.#reason);
      else this.#watch();
    }
    return this.#controller.signal;
  }

  get ended(): Promise<never> {
    if (this.#ended === null) {
      this.#ended = new Promise<never>((_, reject) => (this.#reject = reject));
      this.#ended.catch(() => {});
      if (this.#over) this.#reject(this.#reason);
      else this.#watch();
    }
    return this.#ended;
  }

  dispose(): void {
    this.#disposed = true;
    this.#unsubscribe();
  }

  /**
   * Starts listening for the cancel and the deadline, once — never after dispose: code left
   * running by a finished item may still read its signal, and a listener added then would stay
   * in the thread's cancel set for the rest of the run.
   */
  #watch(): void {
    if (this.#watching || this.#disposed) return;
    this.#watching = true;
    const end = (why: unknown): void => {
      if (this.#over) return;
      this.#over = true;
      this.#reason = why;
      this.#reject(why);
      this.#controller?.abort(why);
    };
    this.#unsubscribe = this.#cancellation.onCancel(() => end(new ItemFailed('aborted', 'the run was stopped', RUN_STOPPED)));
    // A deadline that passed while nobody watched (a long synchronous stage) ends the scope now,
    // as an eager scope's timer would have between stages: the signal is handed out aborted.
    if (this.#clock.deadline <= Date.now()) end(this.#clock.expired());
    else this.#clock.timeUp.catch(end);
  }
}
