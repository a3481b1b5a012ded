// A distributed run's spend caps: one room for the whole run in Redis (the `spend` script), of
// which each process holds a part. The engine's SpendCap (run/spend-cap.ts) reserves each item's
// worst case from this process's part; only when that part is short does it go to Redis, and then
// for several items' worth at once, so most items cost no Redis call at all.
//
// The promise is the one-machine one, for the run: every reservation anywhere comes out of the one
// room (cap − spent − held), so the run's spend stays within the cap except for what single items
// use beyond their own worst case. What a process holds and has not reserved is slack: it goes back
// when the process finds the room full (before it asks again), when it has had nothing in flight
// for IDLE_MS, and when it leaves. A process that dies takes what it held with it — the room
// stays smaller (the run stops early, never late). Stopping: an item that does not fit waits while
// anything of the run is in flight anywhere (a holder seen within LIVE_MS holds reservations), and
// stops this process's engine when nothing is; the coordinator then stops the run (resumable).
//
// Spend moves from held to spent in Redis lazily (on the next exchange): that changes no room,
// as both count against the cap.

import type { Reservation, SharedSpend } from '../run/spend-cap.js';
import type { RunScripts, SpendAsk } from './scripts.js';

/** Items' worth of room asked for when this process's part is short. */
const BLOCK_ITEMS = 8;
/** Nothing in flight for this long: the slack goes back. */
const IDLE_MS = 200;
/** A holder not seen for this long is taken for dead (its holdings stay held, but nobody waits for it). */
const LIVE_MS = 3_000;
/** A holder with reservations shows it is alive this often. */
const HEARTBEAT_MS = 1_000;

type Dim = 'tokens' | 'cost';
const DIMS: readonly Dim[] = ['tokens', 'cost'];

function zero(): Record<Dim, number> {
  return { tokens: 0, cost: 0 };
}

export class SpendLease implements SharedSpend {
  readonly #scripts: RunScripts;
  readonly #holder: string;
  readonly #onError: (error: unknown) => void;
  readonly stopReason: string;
  /** Held from Redis and not reserved by an item here (negative: items used more than they reserved). */
  readonly #free = zero();
  /** Spent since the last exchange (held → spent in Redis at the next one). */
  readonly #used = zero();
  /** Reservations of items here not yet settled. */
  #reserved = 0;
  /** One exchange with Redis at a time; takes queue behind it and look at the part again. */
  #exchange: Promise<unknown> = Promise.resolve();
  #idleTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(scripts: RunScripts, holder: string, caps: { maxTokens: number | null; maxCost: number | null }, onError: (error: unknown) => void) {
    this.#scripts = scripts;
    this.#holder = holder;
    this.#onError = onError;
    const named = [caps.maxTokens === null ? null : `token cap of ${caps.maxTokens}`, caps.maxCost === null ? null : `cost cap of ${caps.maxCost}`].filter((x) => x !== null);
    this.stopReason = `the run's ${named.join(' and ')} would be crossed`;
    this.#heartbeat = setInterval(() => {
      if (this.#reserved > 0) this.#queue(() => this.#send(zero(), zero(), false)).catch(this.#onError);
    }, HEARTBEAT_MS);
  }

  async take(need: Reservation): Promise<{ taken: true } | { taken: false; othersHold: boolean }> {
    clearTimeout(this.#idleTimer);
    const ask = { tokens: need.tokens, cost: need.cost };
    return this.#queue(async () => {
      if (this.#fromFree(ask)) return { taken: true as const };
      // Short: give the slack back and ask for this item (and a few more like it) in one go.
      const least = zero();
      const wanted = zero();
      for (const dim of DIMS) {
        least[dim] = ask[dim] - Math.min(this.#free[dim], 0);
        wanted[dim] = least[dim] + ask[dim] * (BLOCK_ITEMS - 1);
      }
      try {
        const reply = await this.#send(wanted, least, true);
        for (const dim of DIMS) this.#free[dim] += reply.granted[dim];
        if (this.#fromFree(ask)) return { taken: true as const };
        return { taken: false as const, othersHold: reply.othersHold };
      } catch (error) {
        // Redis unreachable: the item waits and asks again (the room is not known to have ended).
        this.#onError(error);
        return { taken: false as const, othersHold: true };
      }
    });
  }

  /** Runs `exchange` after the one before it. */
  #queue<T>(exchange: () => Promise<T>): Promise<T> {
    const result = this.#exchange.then(exchange);
    this.#exchange = result.catch(() => {});
    return result;
  }

  settle(reservation: Reservation, used: Reservation): void {
    this.#reserved -= 1;
    this.#free.tokens += reservation.tokens - used.tokens;
    this.#free.cost += reservation.cost - used.cost;
    this.#used.tokens += used.tokens;
    this.#used.cost += used.cost;
    if (this.#reserved === 0) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => void this.#giveBack().catch(this.#onError), IDLE_MS);
    }
  }

  /** Gives back everything not reserved and tells what was spent; no more heartbeats. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#idleTimer);
    await this.#giveBack();
  }

  #fromFree(ask: Record<Dim, number>): boolean {
    if (this.#free.tokens < ask.tokens || this.#free.cost < ask.cost) return false;
    this.#free.tokens -= ask.tokens;
    this.#free.cost -= ask.cost;
    this.#reserved += 1;
    return true;
  }

  async #giveBack(): Promise<void> {
    await this.#queue(async () => {
      if (this.#reserved > 0 && !this.#closed) return;
      await this.#send(zero(), zero(), true);
    });
  }

  /** One exchange: the slack back (when short or idle), the spend told, `wanted` asked. */
  async #send(wanted: Record<Dim, number>, least: Record<Dim, number>, release: boolean): Promise<{ granted: Record<Dim, number>; othersHold: boolean }> {
    // Only a positive part goes back; a debt stays here and is asked for with the next item.
    const ask = (dim: Dim): SpendAsk => ({ released: release ? Math.max(this.#free[dim], 0) : 0, used: this.#used[dim], wanted: wanted[dim], least: least[dim] });
    const asks = { tokens: ask('tokens'), cost: ask('cost') };
    // Counted as gone before the reply: a settle meanwhile adds to fresh counts.
    for (const dim of DIMS) {
      this.#free[dim] -= asks[dim].released;
      this.#used[dim] -= asks[dim].used;
    }
    let reply;
    try {
      reply = await this.#scripts.spend(this.#holder, asks, LIVE_MS);
    } catch (error) {
      // Redis never heard of them: the spend is still to tell and the slack still here, or a
      // Redis error would leave the run's spend uncounted and its cap crossable.
      for (const dim of DIMS) {
        this.#free[dim] += asks[dim].released;
        this.#used[dim] += asks[dim].used;
      }
      throw error;
    }
    return { granted: { tokens: reply.granted.tokens, cost: reply.granted.cost }, othersHold: reply.othersHold };
  }
}
