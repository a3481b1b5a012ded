/**
 * Fault decisions: per-key scripts, rate-limit storms and random fault rates. Pure logic with the
 * clock passed in, so each rule is unit-testable without a server; `server.ts` only carries out what
 * these return.
 */
import type { RateLimitHint, ResolvedFaultRates, ResolvedStorm, ScriptAction } from './options.js';

/** What a scripted key does once its steps are played out. */
const SCRIPT_DONE: ScriptAction = { kind: 'success', delayMs: undefined, output: undefined };

/**
 * Plays per-key scripts. Invariant: `#played.get(key)` is the number of requests with that key seen so
 * far, capped at the script's length (so the map never grows beyond the scripted keys).
 */
export class ScriptBook {
  readonly #scripts: ReadonlyMap<string, readonly ScriptAction[]>;
  readonly #played = new Map<string, number>();

  constructor(scripts: ReadonlyMap<string, readonly ScriptAction[]>) {
    this.#scripts = scripts;
  }

  /** The action for the next request with `key`, or `undefined` when the key has no script. */
  next(key: string): ScriptAction | undefined {
    const steps = this.#scripts.get(key);
    if (steps === undefined) return undefined;
    const played = this.#played.get(key) ?? 0;
    if (played >= steps.length) return SCRIPT_DONE;
    this.#played.set(key, played + 1);
    return steps[played] ?? SCRIPT_DONE;
  }
}

/** What a storm does with an arriving request. */
export type StormDecision<T> =
  /** No storm is active: the request goes on to the usual checks. */
  | { readonly action: 'pass' }
  /** A window storm is active: answer this request `status` (429, or a 5xx), with the hint if any. */
  | { readonly action: 'reject'; readonly status: number; readonly hint: RateLimitHint | undefined }
  /** A hold storm is filling: keep this request unanswered. */
  | { readonly action: 'hold' }
  /** This request filled a hold storm: answer every held request (this one included) 429. */
  | { readonly action: 'release'; readonly hint: RateLimitHint; readonly held: readonly T[] };

const PASS = { action: 'pass' } as const;
const HOLD = { action: 'hold' } as const;

/**
 * The storm schedule. Storms are consumed in order; a storm starts at the first request that arrives
 * after the previous one ended, the first at the first request.
 *
 * Invariants: `#index` points at the current (active or not yet started) storm; `#windowStart` is set
 * only while a window storm is active; `#held` is non-empty only while a hold storm is filling.
 * A `T` is whatever the caller uses to identify a pending request.
 */
export class StormSchedule<T> {
  readonly #storms: readonly ResolvedStorm[];
  #index = 0;
  #windowStart: number | undefined;
  /** Requests a lull has let through so far (only while a lull is the current storm). */
  #passed = 0;
  readonly #held = new Set<T>();

  constructor(storms: readonly ResolvedStorm[]) {
    this.#storms = storms;
  }

  /** Number of storms still to be played, the active one included. */
  get remaining(): number {
    return this.#storms.length - this.#index;
  }

  /** Decides the fate of a request arriving at `now` (monotonic ms). */
  onArrival(now: number, ticket: T): StormDecision<T> {
    for (;;) {
      const storm = this.#storms[this.#index];
      if (storm === undefined) return PASS;
      if (storm.kind === 'lull') {
        this.#passed++;
        if (this.#passed >= storm.passRequests) {
          this.#passed = 0;
          this.#index++;
        }
        return PASS;
      }
      if (storm.kind === 'hold') {
        this.#held.add(ticket);
        if (this.#held.size < storm.holdUntilInFlight) return HOLD;
        const held = [...this.#held];
        this.#held.clear();
        this.#index++;
        return { action: 'release', hint: storm.hint, held };
      }
      if (this.#windowStart === undefined) {
        this.#windowStart = now;
        return { action: 'reject', status: storm.status, hint: storm.hint };
      }
      if (now < this.#windowStart + storm.windowMs) return { action: 'reject', status: storm.status, hint: storm.hint };
      // This storm ended before `now`; the request may start the next one.
      this.#windowStart = undefined;
      this.#index++;
    }
  }

  /**
   * A held request went away (client abort) before its storm filled. It stops counting, so a client
   * that times out and retries does not fill the storm with requests nobody waits for.
   */
  abandon(ticket: T): void {
    this.#held.delete(ticket);
  }

  /** Forgets every held request (the server is closing). */
  clear(): T[] {
    const held = [...this.#held];
    this.#held.clear();
    return held;
  }
}

export type RandomFault = 'error500' | 'error503' | 'reset' | 'hang';

/**
 * Maps one uniform draw `u` in [0, 1) to at most one fault. The faults partition [0, sum of rates)
 * in a fixed order, so a rate of 1 always fires and a rate of 0 never does.
 */
export function rollFault(rates: ResolvedFaultRates, u: number): RandomFault | undefined {
  let edge = rates.error500;
  if (u < edge) return 'error500';
  edge += rates.error503;
  if (u < edge) return 'error503';
  edge += rates.reset;
  if (u < edge) return 'reset';
  edge += rates.hang;
  if (u < edge) return 'hang';
  return undefined;
}
