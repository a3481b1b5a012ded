// Pacing one attempt through the proactive rate budgets (rate-budget.ts): reserve a request and
// its estimated tokens, wait for the slot, and settle the difference once the usage is known.

import { setTimeout as sleep } from 'node:timers/promises';
import { interruptible, type ItemClock } from './interrupt.js';
import type { Usage } from './outcome.js';
import type { RateBudget } from './rate-budget.js';
import type { HeaderSource } from './rate-limit-hint.js';
import { estimateTokens, loadTokenizer } from './token-estimate.js';

export interface Reservation {
  readonly tokens: number;
  readonly sendAt: number;
}

export class Pacer {
  readonly #budget: RateBudget;
  readonly #defaultAnswerTokens: number;
  readonly #learn: boolean;

  constructor(budget: RateBudget, defaultAnswerTokens: number, learn: boolean) {
    this.#budget = budget;
    this.#defaultAnswerTokens = defaultAnswerTokens;
    this.#learn = learn;
  }

  /** Reserves one request and its token estimate; resolves when they may be used. */
  async reserve(body: Record<string, unknown>, clock: ItemClock): Promise<Reservation> {
    const now = Date.now();
    let tokens = 0;
    if (this.#budget.limited('tokens')) {
      await loadTokenizer();
      tokens = estimateTokens(body, this.#defaultAnswerTokens);
    }
    const sendAt = Math.max(this.#budget.reserve('requests', 1, now), this.#budget.reserve('tokens', tokens, now));
    const reservation = { tokens, sendAt };
    if (sendAt <= now) return reservation;
    try {
      // Waiting past the item's deadline is pointless: fail now, and free the slot.
      if (sendAt >= clock.deadline) throw clock.expired();
      await interruptible(sleep(sendAt - now), clock.interrupt);
      return reservation;
    } catch (error) {
      this.cancel(reservation);
      throw error;
    }
  }

  /** The attempt was not sent after all: give its reservation back. */
  cancel(reservation: Reservation): void {
    this.#budget.refund('requests', 1);
    this.#budget.refund('tokens', reservation.tokens);
  }

  /** The attempt is over: settle the token estimate against the usage, and learn from the headers. */
  settle(reservation: Reservation, usage: Usage | null, headers: HeaderSource | null): void {
    if (usage !== null && reservation.tokens > 0) this.#budget.refund('tokens', reservation.tokens - usage.total);
    if (this.#learn && headers !== null) this.#budget.learn(headers, Date.now());
  }
}
