/**
 * The simulator's RPM/TPM limits: two sliding windows, and the decision whether a request fits.
 * Only admitted requests are charged; a rejected request costs nothing.
 */
import type { LimitSnapshot } from './rate-limit-headers.js';
import { SlidingWindow } from './rate-window.js';

export type Admission =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      /** Which limit refused. */
      readonly limit: 'requests' | 'tokens';
      /** Milliseconds until enough budget frees for this request (rounded up, at least 1). */
      readonly retryAfterMs: number;
      /** The request alone exceeds the window's whole token budget: waiting will not help. */
      readonly tooLarge: boolean;
    };

const ADMITTED: Admission = { admitted: true };

export class RateLimits {
  readonly #rpm: number | undefined;
  readonly #tpm: number | undefined;
  readonly #requests: SlidingWindow | undefined;
  readonly #tokens: SlidingWindow | undefined;
  /** Factor from a window's budget to per-minute units (the unit of OpenAI's headers). */
  readonly #perMinute: number;

  constructor(rpm: number | undefined, tpm: number | undefined, windowMs: number) {
    this.#rpm = rpm;
    this.#tpm = tpm;
    // A window shorter than a minute gets the same share of the per-minute limit.
    const share = windowMs / 60_000;
    this.#requests = rpm === undefined ? undefined : new SlidingWindow(rpm * share, windowMs);
    this.#tokens = tpm === undefined ? undefined : new SlidingWindow(tpm * share, windowMs);
    this.#perMinute = 1 / share;
  }

  /** True when at least one limit is set. */
  get enabled(): boolean {
    return this.#requests !== undefined || this.#tokens !== undefined;
  }

  /** Admits (and charges) one request costing `tokens` at `now` (monotonic ms), or says how long to wait. */
  admit(now: number, tokens: number): Admission {
    const requestWait = this.#requests?.waitFor(now, 1) ?? 0;
    const tokenWait = this.#tokens?.waitFor(now, tokens) ?? 0;
    if (requestWait === 0 && tokenWait === 0) {
      this.#requests?.add(now, 1);
      this.#tokens?.add(now, tokens);
      return ADMITTED;
    }
    const tooLarge = tokenWait === Infinity;
    const wait = tooLarge ? (this.#tokens?.windowMs ?? 0) : Math.max(requestWait, tokenWait);
    return {
      admitted: false,
      limit: requestWait >= tokenWait ? 'requests' : 'tokens',
      retryAfterMs: Math.max(1, Math.ceil(wait)),
      tooLarge,
    };
  }

  /** The requests window as OpenAI reports it, or `undefined` without an RPM limit. */
  requestsSnapshot(now: number): LimitSnapshot | undefined {
    return this.#snapshot(this.#requests, this.#rpm, now);
  }

  /** The tokens window as OpenAI reports it, or `undefined` without a TPM limit. */
  tokensSnapshot(now: number): LimitSnapshot | undefined {
    return this.#snapshot(this.#tokens, this.#tpm, now);
  }

  #snapshot(window: SlidingWindow | undefined, perMinute: number | undefined, now: number): LimitSnapshot | undefined {
    if (window === undefined || perMinute === undefined) return undefined;
    return {
      limit: perMinute,
      remaining: Math.floor(window.remaining(now) * this.#perMinute + 1e-9),
      resetMs: window.resetIn(now),
    };
  }
}
