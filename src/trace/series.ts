// The run's time series: a sample of the live counters (items done, in flight, the limit, 429s,
// an open cooldown, tokens, cost) every `intervalMs` on the main thread, handed to the observers
// (and so into the trace) and folded into an aggregate for the summary. One timer, unref'd, that
// reads a few shared words and counters: it costs the run nothing measurable.

import type { RunSample } from '../model/events.js';

/** What the summary says about the time series. */
export interface SeriesSummary {
  /** The sampling interval, in ms. */
  interval_ms: number;
  samples: number;
  /** Items finished per second between samples: mean and the best interval. */
  items_per_s: { mean: number; max: number };
  /** Attempts on the wire at the samples: mean and max. */
  in_flight: { mean: number; max: number };
  /** The lowest in-flight limit sampled (the ramp after a cooldown, or a lowered ceiling). */
  min_limit: number | null;
  /** 429s per second: the worst interval. */
  max_rate_limited_per_s: number;
  /** Share of samples taken while a cooldown was open, in [0, 1]. */
  cooldown_share: number;
  /** Tokens per second over the run. */
  tokens_per_s: number;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export class SeriesSampler {
  readonly #intervalMs: number;
  readonly #read: () => RunSample;
  readonly #emit: ((sample: RunSample) => void) | undefined;
  readonly #timer: NodeJS.Timeout;
  #last: { at: number; done: number; rateLimited: number };
  readonly #started: number;
  #samples = 0;
  #inFlightSum = 0;
  #inFlightMax = 0;
  #rateMax = 0;
  #limitMin: number | null = null;
  #rateLimitedMax = 0;
  #cooling = 0;
  #tokens = 0;
  #stopped = false;

  constructor(intervalMs: number, read: () => RunSample, emit?: (sample: RunSample) => void) {
    this.#intervalMs = intervalMs;
    this.#read = read;
    this.#emit = emit;
    this.#started = performance.now();
    this.#last = { at: this.#started, done: 0, rateLimited: 0 };
    this.#timer = setInterval(() => this.#take(), intervalMs).unref();
  }

  #take(): void {
    const sample = this.#read();
    const now = performance.now();
    const seconds = (now - this.#last.at) / 1000;
    if (seconds > 0) {
      this.#rateMax = Math.max(this.#rateMax, (sample.done - this.#last.done) / seconds);
      this.#rateLimitedMax = Math.max(this.#rateLimitedMax, (sample.rateLimited - this.#last.rateLimited) / seconds);
    }
    this.#last = { at: now, done: sample.done, rateLimited: sample.rateLimited };
    this.#samples += 1;
    this.#inFlightSum += sample.inFlight;
    this.#inFlightMax = Math.max(this.#inFlightMax, sample.inFlight);
    this.#limitMin = Math.min(this.#limitMin ?? sample.limit, sample.limit);
    if (sample.cooldownOpen) this.#cooling += 1;
    this.#tokens = sample.tokens;
    this.#emit?.(sample);
  }

  /** Takes a last sample (the run's end) and stops. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#take();
  }

  summary(): SeriesSummary {
    const seconds = (this.#last.at - this.#started) / 1000;
    return {
      interval_ms: this.#intervalMs,
      samples: this.#samples,
      items_per_s: { mean: seconds > 0 ? round(this.#last.done / seconds) : 0, max: round(this.#rateMax) },
      in_flight: { mean: this.#samples > 0 ? round(this.#inFlightSum / this.#samples) : 0, max: this.#inFlightMax },
      min_limit: this.#limitMin,
      max_rate_limited_per_s: round(this.#rateLimitedMax),
      cooldown_share: this.#samples > 0 ? round(this.#cooling / this.#samples, 3) : 0,
      tokens_per_s: seconds > 0 ? round(this.#tokens / seconds) : 0,
    };
  }
}
