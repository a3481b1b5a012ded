// When a run stops early, and why: fail-fast categories, the run deadline, the caller's
// AbortSignal (or stop() on the stream), and the spend caps. Main thread only; the workers learn
// of a stop through the control block's STOP word (stop.ts).

import type { ControlBlock } from '../control/control-block.js';
import { costOf, type PriceTable } from '../model/cost.js';
import type { ErrorCategory, ItemOutcome } from '../model/outcome.js';
import type { Usage } from '../model/usage.js';
import { requestStop, type AbortMode } from '../control/stop.js';

export interface RunControlOptions {
  failFast: ReadonlySet<ErrorCategory>;
  abortMode: AbortMode;
  /** Epoch ms, or null. */
  deadlineAt: number | null;
  signal: AbortSignal | undefined;
  maxTokens: number | null;
  maxCost: number | null;
  prices: PriceTable | undefined;
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
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onAbort: () => void;

  constructor(block: ControlBlock, options: RunControlOptions) {
    this.#block = block;
    this.#options = options;
    this.#onAbort = () => this.stop(options.abortMode, 'aborted by the caller');
    if (options.signal?.aborted) this.#onAbort();
    else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (options.deadlineAt !== null) {
      // Workers end their own attempts by the run deadline; this stops admitting new items.
      this.#timer = setTimeout(() => this.stop('drain', 'the run deadline passed'), Math.max(0, options.deadlineAt - Date.now()));
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

  /** After each finished item: a fail-fast category stops the run. */
  observe(outcome: ItemOutcome): void {
    if (outcome.ok || !this.#options.failFast.has(outcome.error.category)) return;
    this.stop(this.#options.abortMode, `fail-fast on ${outcome.error.category} (${outcome.custom_id}: ${outcome.error.message})`);
  }

  /**
   * Before starting an item: false once the run has stopped, or when the item would cross a
   * spend cap — estimated from the average item so far, for it and every item still running.
   */
  mayAdmit(spent: { done: number; tokens: Usage }, running: number): boolean {
    if (this.#state !== null) return false;
    const { maxTokens, maxCost, prices } = this.#options;
    if (spent.done === 0 || (maxTokens === null && maxCost === null)) return true;
    const ahead = (running + 1) / spent.done;
    if (maxTokens !== null && spent.tokens.total * (1 + ahead) > maxTokens) {
      this.stop('drain', `the token cap of ${maxTokens} would be crossed`);
      return false;
    }
    if (maxCost !== null && prices !== undefined && costOf(spent.tokens, prices) * (1 + ahead) > maxCost) {
      this.stop('drain', `the cost cap of ${maxCost} would be crossed`);
      return false;
    }
    return true;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }
}
