// When a run stops early, and why: fail-fast categories, the run deadline, the caller's
// AbortSignal (or stop() on the stream); the spend caps stop it through spend-cap.ts. Main thread
// only; the workers learn of a stop through the control block's STOP word (stop.ts).

import type { ControlBlock } from '../control/control-block.js';
import type { ErrorCategory, ItemOutcome } from '../model/outcome.js';
import { requestStop, type AbortMode } from '../control/stop.js';
import { setLongTimeout, type LongTimer } from '../control/long-timer.js';

export interface RunControlOptions {
  failFast: ReadonlySet<ErrorCategory>;
  abortMode: AbortMode;
  /** Epoch ms, or null. */
  deadlineAt: number | null;
  signal: AbortSignal | undefined;
}

export interface StopState {
  reason: string;
  mode: AbortMode;
}

export class RunControl {
  readonly #block: ControlBlock;
  readonly #options: RunControlOptions;
  #state: StopState | null = null;
  /** Told when the run starts to stop, and when a drain becomes a cancel (for the trace). */
  onStop: ((mode: AbortMode, reason: string) => void) | undefined;
  readonly #timer: LongTimer | undefined;
  readonly #onAbort: () => void;

  constructor(block: ControlBlock, options: RunControlOptions) {
    this.#block = block;
    this.#options = options;
    this.#onAbort = () => this.stop(options.abortMode, 'aborted by the caller');
    if (options.signal?.aborted) this.#onAbort();
    else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (options.deadlineAt !== null) {
      // Workers end their own attempts by the run deadline; this stops admitting new items.
      this.#timer = setLongTimeout(() => this.stop('drain', 'the run deadline passed'), Math.max(0, options.deadlineAt - Date.now()));
    }
  }

  get stopped(): StopState | null {
    return this.#state === null ? null : { ...this.#state };
  }

  /** Stops the run (the first reason is kept); a later call may move 'drain' on to 'cancel'. */
  stop(mode: AbortMode, reason: string): void {
    const before = this.#state?.mode;
    if (this.#state === null) this.#state = { reason, mode };
    else if (mode === 'cancel') this.#state.mode = 'cancel';
    if (this.#state.mode !== before) this.onStop?.(this.#state.mode, reason);
    requestStop(this.#block, mode);
  }

  /**
   * At the end of the run: a deadline that has passed stops it, even when the last items ended
   * at the deadline a moment before this thread's own timer fired.
   */
  settle(now = Date.now()): void {
    if (this.#state === null && this.#options.deadlineAt !== null && now >= this.#options.deadlineAt) this.stop('drain', 'the run deadline passed');
  }

  /** After each finished item: a fail-fast category stops the run. */
  observe(outcome: ItemOutcome): void {
    if (outcome.ok || !this.#options.failFast.has(outcome.error.category)) return;
    this.stop(this.#options.abortMode, `fail-fast on ${outcome.error.category} (${outcome.custom_id}: ${outcome.error.message})`);
  }

  dispose(): void {
    this.#timer?.clear();
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }
}
