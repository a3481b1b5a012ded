// Pacing one attempt through the proactive rate budgets (rate-budget.ts): reserve a request and
// its estimated tokens, wait for the slot, and settle the difference once the usage is known.

import { interruptible, type ItemClock } from '../control/interrupt.js';
import { sleepLong } from '../control/long-timer.js';
import type { Endpoint } from '../model/endpoint.js';
import type { Usage } from '../model/usage.js';
import type { RateBudget, RequestSlot } from '../control/rate-budget.js';
import type { LeaseCredit } from '../control/lease-credit.js';
import { parseResetDuration, readHeader, type HeaderSource } from './rate-limit-hint.js';
import { estimateTokens, loadTokenizer } from './token-estimate.js';

/** Told when a server's header tightened a budget (for the trace). */
export type LearnedLimit = (bucket: 'requests' | 'tokens', perMinute: number) => void;

export interface Reservation {
  /** Tokens reserved: the calibrated prompt estimate plus the answer's maximum. */
  readonly tokens: number;
  /** The tokenizer's own prompt count, to calibrate against the server's (0 without a token budget). */
  readonly promptCounted: number;
  readonly sendAt: number;
  /** Where it ends in each budget, for its refund (rate-budget.ts). */
  readonly slot: RequestSlot;
}

/** Bounds of the calibration: a server's count is trusted to be within this factor of ours. */
const MIN_SCALE = 0.5;
const MAX_SCALE = 4;

export class Pacer {
  readonly #budget: RateBudget;
  /** A distributed run's leased share of the budgets (inactive on one machine). */
  readonly #credit: LeaseCredit;
  readonly #defaultAnswerTokens: number;
  readonly #learn: boolean;
  readonly #onLearned: LearnedLimit | undefined;
  /**
   * Server prompt tokens per tokenizer-counted prompt token, learned from usage (a moving
   * average). Servers count with their own tokenizers and templates; reserving by ours alone
   * would under-reserve when theirs counts more, and bounce off the TPM limit.
   */
  #promptScale = 1;
  /**
   * The highest ratio seen so far, null before the first answer. The reservation uses the larger
   * of the two, and MAX_SCALE until an answer has come: a first window paced on an estimate that
   * is 2.7× low went over the limit (8,928 tokens in 10 s at --tpm 30000). Over-reserving costs
   * little: the difference is settled once the usage is known.
   */
  #maxSeenScale: number | null = null;

  constructor(budget: RateBudget, credit: LeaseCredit, defaultAnswerTokens: number, learn: boolean, onLearned?: LearnedLimit) {
    this.#budget = budget;
    this.#credit = credit;
    this.#defaultAnswerTokens = defaultAnswerTokens;
    this.#learn = learn;
    this.#onLearned = onLearned;
  }

  /**
   * Reserves one request to `endpoint` and its token estimate; gives it when it may be used (at
   * once, without a promise, when there is nothing to wait for: no token budget, no leased
   * credit, a free slot — the common case), or null (nothing reserved) when `gateOpen` says no
   * after a wait for leased credit.
   */
  reserve(body: Record<string, unknown>, clock: ItemClock, endpoint: Endpoint = 'chat', gateOpen: () => boolean = () => true): Reservation | null | Promise<Reservation | null> {
    if (!this.#budget.limited('tokens') && !this.#credit.leased) return this.#slot(0, 0, clock);
    return this.#reserveEstimated(body, clock, endpoint, gateOpen);
  }

  async #reserveEstimated(body: Record<string, unknown>, clock: ItemClock, endpoint: Endpoint, gateOpen: () => boolean): Promise<Reservation | null> {
    let tokens = 0;
    let promptCounted = 0;
    if (this.#budget.limited('tokens')) {
      await loadTokenizer();
      const estimate = estimateTokens(body, this.#defaultAnswerTokens, endpoint);
      promptCounted = estimate.prompt;
      const scale = this.#maxSeenScale === null ? MAX_SCALE : Math.max(this.#promptScale, this.#maxSeenScale);
      tokens = Math.ceil(estimate.prompt * scale) + estimate.answer;
    }
    // In a distributed run the units come out of this process's leased slices first (waiting only
    // when they are used up); the local budget below then spaces them out.
    if (this.#credit.leased) {
      const units = { requests: this.#budget.limited('requests') ? 1 : 0, tokens };
      // Back to the gate, unreserved, when a cooldown closed it meanwhile: an attempt that went on
      // to reserve its send time would push the local budget ahead by its slot, and its cancel
      // could not take that back with later slots standing on it.
      if (!(await this.#credit.take(units, clock.interrupt, gateOpen))) return null;
    }
    return this.#slot(tokens, promptCounted, clock);
  }

  /** The send time in the local budget, waited for if it is ahead. */
  #slot(tokens: number, promptCounted: number, clock: ItemClock): Reservation | Promise<Reservation> {
    // The time is read after the tokenizer has loaded: a `now` from before that wait would be a
    // slot in the past, and every item that started meanwhile would go out at once.
    const now = Date.now();
    const slot = this.#budget.reserveRequest(tokens, now);
    const reservation = { tokens, promptCounted, sendAt: slot.at, slot };
    return slot.at <= now ? reservation : this.#waitForSlot(reservation, now, clock);
  }

  async #waitForSlot(reservation: Reservation, now: number, clock: ItemClock): Promise<Reservation> {
    try {
      // Waiting past the item's own deadline is pointless: fail now, and free the slot. (Past the
      // run's deadline, wait: the run ends then, resumably.)
      if (reservation.sendAt >= clock.itemDeadline) throw clock.expired();
      await interruptible(sleepLong(reservation.sendAt - now), clock.interrupt);
      return reservation;
    } catch (error) {
      this.cancel(reservation);
      throw error;
    }
  }

  /** The attempt was not sent after all: give its reservation back. */
  cancel(reservation: Reservation): void {
    this.#budget.refund('requests', 1, reservation.slot);
    this.#budget.refund('tokens', reservation.tokens, reservation.slot);
    if (this.#budget.limited('requests')) this.#credit.settle('requests', 1);
    this.#credit.settle('tokens', reservation.tokens);
  }

  /** The attempt is over: settle the token estimate against the usage, and learn from the headers. */
  settle(reservation: Reservation, usage: Usage | null, headers: HeaderSource | null): void {
    if (usage !== null && reservation.tokens > 0) {
      this.#budget.refund('tokens', reservation.tokens - usage.total, reservation.slot);
      this.#credit.settle('tokens', reservation.tokens - usage.total);
      if (reservation.promptCounted > 0 && usage.prompt > 0) {
        const seen = Math.min(MAX_SCALE, Math.max(MIN_SCALE, usage.prompt / reservation.promptCounted));
        this.#promptScale += (seen - this.#promptScale) * 0.2;
        this.#maxSeenScale = Math.max(this.#maxSeenScale ?? 0, seen);
      }
    }
    if (this.#learn && headers !== null) learnFromHeaders(this.#budget, headers, Date.now(), this.#onLearned);
  }
}

/**
 * What the server says about its limits (OpenAI's x-ratelimit-* headers): a lower per-minute
 * limit slows the budget down for good; nothing remaining holds the next unit back until the
 * server has one again. Learning also turns a budget on that was not configured.
 */
export function learnFromHeaders(budget: RateBudget, headers: HeaderSource, nowMs: number, onLearned?: LearnedLimit): void {
  for (const bucket of ['requests', 'tokens'] as const) {
    const limit = Number(readHeader(headers, `x-ratelimit-limit-${bucket}`));
    if (Number.isFinite(limit) && limit > 0 && budget.slowTo(bucket, limit)) onLearned?.(bucket, limit);
    // x-ratelimit-reset-* is the time until the server's budget is whole again; it refills as
    // it goes, one unit every reset ÷ (limit − remaining). So only an empty budget holds us
    // back, until one unit has come back — a budget that is merely low is paced already.
    // A missing (or empty) remaining header says nothing: Number(null) would read it as 0.
    const remainingText = readHeader(headers, `x-ratelimit-remaining-${bucket}`)?.trim() ?? '';
    const remaining = remainingText === '' ? Number.NaN : Number(remainingText);
    const resetText = readHeader(headers, `x-ratelimit-reset-${bucket}`);
    const resetMs = resetText === null ? null : parseResetDuration(resetText);
    if (!(remaining < 1) || resetMs === null) continue;
    const perUnitMs = Number.isFinite(limit) && limit > remaining ? resetMs / (limit - remaining) : resetMs;
    budget.holdUntil(bucket, nowMs + perUnitMs);
  }
}
