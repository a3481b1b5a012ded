// The spend caps (maxTokens, maxCost) as a promise about the bill: before an item starts it
// reserves its worst case — prompt tokens (counted with the tokenizer) plus the most its answer may
// take, priced — and it starts only if everything spent plus everything reserved still fits under
// the cap. When the item ends its reservation is settled with what it really used. An item that
// does not fit waits while others are on the wire (their settling may free room) and stops the run
// when nothing is: so the spend stays within the cap, except for what a single item uses beyond its
// own worst case (re-asks after an invalid answer, a server that ignores max_tokens). The summary
// says by how much, if at all.
//
// In a distributed run the caps are the run's, not each process's: the reservations are then taken
// from a room shared with the other processes (`SharedSpend`, in Redis: distributed/spend-lease.ts)
// instead of this process's own count, and an item that does not fit waits while anything of the
// run is on the wire anywhere, and stops this process's engine when nothing is.
//
// Main thread only, called from the dispatch of run-batch.ts.

import { answerCap, estimateTokens, loadTokenizer } from '../attempt/token-estimate.js';
import { endpointOfUrl } from '../model/endpoint.js';
import { costOf, type PriceTable } from '../model/cost.js';
import type { BatchItem } from '../model/outcome.js';
import { addUsage, emptyUsage, type Usage } from '../model/usage.js';

export interface SpendCapOptions {
  maxTokens: number | null;
  maxCost: number | null;
  prices: PriceTable | undefined;
  /** The least an answer without max_tokens is assumed to take. */
  defaultAnswerTokens: number;
  /** The run's room, shared with other processes; its caps apply, not `maxTokens`/`maxCost`. @default none */
  shared?: SharedSpend | undefined;
}

/** The spend room of a run that several processes share (the caps are the run's). */
export interface SharedSpend {
  /**
   * Takes `need` from the run's room. `taken`; or `full` when it does not fit now, with whether
   * any other process holds reservations whose settling may free room.
   */
  take(need: Reservation): Promise<{ taken: true } | { taken: false; othersHold: boolean }>;
  /** An item ended: its reservation gives way to what it used. */
  settle(reservation: Reservation, used: Reservation): void;
  /** Why the run stops when nothing fits: names the caps. */
  readonly stopReason: string;
}

/** How often an item that found the shared room full looks again (other processes' settling wakes nobody here). */
const SHARED_RETRY_MS = 50;

/** What the caps came to, for the summary. */
export interface SpendCapReport {
  max_tokens: number | null;
  max_cost: number | null;
  /** Tokens the run spent (all items, all attempts). */
  spent_tokens: number;
  spent_cost: number | null;
  /** How far the spend went past each cap; 0 when within it. */
  over_tokens: number;
  over_cost: number;
}

export interface Reservation {
  tokens: number;
  cost: number;
}

export class SpendCap {
  readonly #options: SpendCapOptions;
  readonly #spent: Usage = emptyUsage();
  #reservedTokens = 0;
  #reservedCost = 0;
  #inFlight = 0;
  /** The most tokens one finished item took, and the most completion tokens; null before the first. */
  #largest: { total: number; completion: number } | null = null;
  #wake: Array<() => void> = [];
  #tokenizer: Promise<void> | null = null;

  constructor(options: SpendCapOptions) {
    this.#options = options;
  }

  get active(): boolean {
    return this.#options.shared !== undefined || this.#options.maxTokens !== null || this.#options.maxCost !== null;
  }

  /**
   * The item's worst case; null when it cannot be told yet (no body to count, or no max_tokens and
   * no finished item to learn a typical answer from): such an item starts only on an empty wire.
   */
  #worstCase(item: BatchItem): Reservation | null {
    const body = 'body' in item ? item.body : undefined;
    let prompt: number;
    let answer: number;
    if (body === undefined) {
      // A task builds this request in its thread: the largest finished item is the best guess.
      if (this.#largest === null) return null;
      prompt = this.#largest.total - this.#largest.completion;
      answer = this.#largest.completion;
    } else {
      // An item of an unknown url fails before any request; its estimate does not matter.
      const endpoint = endpointOfUrl(item.url) ?? 'chat';
      const given = answerCap(endpoint, body);
      prompt = estimateTokens(body, 0, endpoint).prompt;
      if (given !== null) answer = given;
      else if (this.#largest === null) return null;
      else answer = Math.max(this.#options.defaultAnswerTokens, this.#largest.completion);
    }
    const tokens = prompt + answer;
    const { prices } = this.#options;
    const cost = prices === undefined ? 0 : costOf({ ...emptyUsage(), prompt, completion: answer, total: tokens }, prices);
    return { tokens, cost };
  }

  #fits(need: Reservation): boolean {
    const { maxTokens, maxCost, prices } = this.#options;
    if (maxTokens !== null && this.#spent.total + this.#reservedTokens + need.tokens > maxTokens) return false;
    if (maxCost !== null && prices !== undefined && costOf(this.#spent, prices) + this.#reservedCost + need.cost > maxCost) return false;
    return true;
  }

  /**
   * Reserves the item's worst case, waiting while it does not fit and others are on the wire.
   * Resolves with the reservation, or with a reason to stop the run when it can never fit, or null
   * when `stopped()` says the run stopped meanwhile.
   */
  async reserve(item: BatchItem, stopped: () => boolean): Promise<Reservation | { stop: string } | null> {
    if (!this.active) return { tokens: 0, cost: 0 };
    this.#tokenizer ??= loadTokenizer();
    await this.#tokenizer;
    const nothing: Reservation = { tokens: 0, cost: 0 };
    const { shared } = this.#options;
    for (;;) {
      if (stopped()) return null;
      const need = this.#worstCase(item);
      if (shared !== undefined && need !== null) {
        const got = await shared.take(need);
        if (got.taken) return this.#hold(need);
        if (this.#inFlight === 0 && !got.othersHold) return { stop: this.#stopReason(need, true) };
        // Room comes back when an item settles, here (a wake-up) or elsewhere (seen on a retry).
        await new Promise<void>((resolve) => {
          this.#wake.push(resolve);
          setTimeout(resolve, SHARED_RETRY_MS);
        });
        continue;
      }
      if (need === null ? this.#inFlight === 0 && this.#fits(nothing) : this.#fits(need)) {
        return this.#hold(need ?? nothing);
      }
      if (this.#inFlight === 0) return { stop: this.#stopReason(need ?? nothing, false) };
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  #hold(reservation: Reservation): Reservation {
    this.#reservedTokens += reservation.tokens;
    this.#reservedCost += reservation.cost;
    this.#inFlight += 1;
    return reservation;
  }

  #stopReason(need: Reservation, shared: boolean): string {
    const { maxTokens, maxCost } = this.#options;
    if (shared) return this.#options.shared?.stopReason ?? "the run's spend cap would be crossed";
    if (maxTokens !== null && this.#spent.total + need.tokens > maxTokens) return `the token cap of ${maxTokens} would be crossed`;
    return `the cost cap of ${maxCost ?? 0} would be crossed`;
  }

  /** The item ended: its reservation gives way to what it used. */
  settle(reservation: Reservation, usage: Usage): void {
    if (!this.active) return;
    this.#reservedTokens -= reservation.tokens;
    this.#reservedCost -= reservation.cost;
    this.#inFlight -= 1;
    addUsage(this.#spent, usage);
    const { prices, shared } = this.#options;
    shared?.settle(reservation, { tokens: usage.total, cost: prices === undefined ? 0 : costOf(usage, prices) });
    if (usage.total > 0) {
      const largest = this.#largest ?? { total: 0, completion: 0 };
      this.#largest = { total: Math.max(largest.total, usage.total), completion: Math.max(largest.completion, usage.completion) };
    }
    const waiting = this.#wake;
    this.#wake = [];
    for (const wake of waiting) wake();
  }

  /** Wakes every waiting item, to see that the run has stopped. */
  wakeAll(): void {
    const waiting = this.#wake;
    this.#wake = [];
    for (const wake of waiting) wake();
  }

  report(): SpendCapReport | null {
    if (!this.active) return null;
    const { maxTokens, maxCost, prices } = this.#options;
    const spentCost = prices === undefined ? null : costOf(this.#spent, prices);
    return {
      max_tokens: maxTokens,
      max_cost: maxCost,
      spent_tokens: this.#spent.total,
      spent_cost: spentCost,
      over_tokens: maxTokens === null ? 0 : Math.max(0, this.#spent.total - maxTokens),
      over_cost: maxCost === null || spentCost === null ? 0 : Math.max(0, spentCost - maxCost),
    };
  }
}
