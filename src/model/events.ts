// Run events for observers (progress, logs, tests, the trace file). Delivered on the main thread:
// cooldown events come from the main thread's keeper, item events from the worker threads
// (event-channel.ts), samples and run events from the run itself. The trace (trace/) writes this
// same stream, one event a line; there is no second event model.

import type { ErrorCategory } from './outcome.js';

/** What one 429 did to the shared cooldown (control/cooldown.ts). */
export type RateLimitReport =
  /** This attempt opened the cooldown for its burst. */
  | 'opened'
  /** A cooldown for the same burst was already open; this hint made it longer. */
  | 'extended'
  /** A cooldown for the same burst was already open and at least as long. */
  | 'joined'
  /** The attempt was sent before a cooldown that has already ended: nothing to open or extend. */
  | 'stale';

/** Where a cooldown's pause came from: a header of the 429, or the escalating default (no hint). */
export type HintSource = 'retry-after-ms' | 'retry-after' | 'reset-headers' | 'default';

/**
 * Why the gate closed: a rate limit (429s: a cooldown) or an outage (the endpoint refused
 * connections, answered 502/503/504 or let attempts time out, several in a row: an outage pause).
 */
export type PauseReason = 'rate_limit' | 'outage';

/** One point of the run's time series, taken on the main thread every `sampleIntervalMs`. */
export interface RunSample {
  /** Items finished so far (succeeded + failed). */
  done: number;
  succeeded: number;
  failed: number;
  /** Attempts on the wire now, the in-flight limit (the ramp) and its ceiling (AIMD). */
  inFlight: number;
  limit: number;
  ceiling: number;
  /** Requests sent and 429s so far (monotonic counters). */
  requests: number;
  rateLimited: number;
  /** Whether a cooldown was open at the sample (a rate limit's or an outage's). */
  cooldownOpen: boolean;
  /** Whether that pause was an outage's (the endpoint down rather than busy). */
  outage: boolean;
  /** Tokens so far (all kinds), and their cost from `prices` (null without). */
  tokens: number;
  cost: number | null;
}

export type BatchEvent =
  | {
      type: 'cooldown-opened';
      /** The odd generation of this cooldown. */
      gen: number;
      /** When the main thread saw it open (epoch ms; the opening itself is a little earlier). */
      at: number;
      /** When it is due to end (epoch ms), as first published. */
      until: number;
      reason: PauseReason;
    }
  | {
      type: 'cooldown-ended';
      gen: number;
      /** When the main thread ended it: epoch ms (Date.now, the clock of `until`), taken just before the gate opened. */
      at: number;
      /** The in-flight limit the ramp starts from. */
      limit: number;
      /**
       * Who ended it: the main thread's keeper, on its timer; or a worker waiting at the gate, when
       * the main thread was late by more than a grace margin (then `at` is when the keeper heard).
       */
      by: 'keeper' | 'worker';
      /** From when the keeper saw it open to its end, in ms. */
      durationMs: number;
      /** Attempts that were waiting at the gate when it opened again (0 when a worker ended it: not counted). */
      waiting: number;
      /** An outage pause ends with room for one attempt (the probe); a rate limit's with the ramp's start. */
      reason: PauseReason;
    }
  | {
      /**
       * The AIMD ceiling moved: cooldowns in a row or attempt timeouts lowered it (multiplicative
       * decrease), or successes raised it (additive increase).
       */
      type: 'ceiling-changed';
      from: number;
      to: number;
      why: 'cooldowns' | 'timeouts' | 'successes';
    }
  | {
      /** A success raised the in-flight limit (the ramp after a cooldown, up to the ceiling). */
      type: 'limit-raised';
      limit: number;
      ceiling: number;
    }
  | {
      /** A server's x-ratelimit-limit-* header tightened a rate budget. */
      type: 'limit-learned';
      bucket: 'requests' | 'tokens';
      perMinute: number;
    }
  | {
      /**
       * The thread running an item died; the item runs again on a live thread, or fails. Also
       * sent, with `custom_id` null, for a thread that died with no item on it (a timer of
       * finished task code threw): nothing was lost, a new thread takes its place.
       */
      type: 'thread-died';
      custom_id: string | null;
      /** How many times the item's thread has died so far. */
      crashes: number;
      rerun: boolean;
      message: string;
    }
  | {
      /** The run stops: nothing new starts (drain), or attempts on the wire are aborted too (cancel). */
      type: 'run-stopping';
      mode: 'drain' | 'cancel';
      reason: string;
    }
  | ({ type: 'sample' } & RunSample)
  | {
      /** The first event of a run: its settings, without secrets (no key, no URL password, no header values). */
      type: 'run-started';
      settings: Record<string, string | number | boolean | null>;
    }
  | {
      type: 'attempt-failed';
      custom_id: string;
      /** Requests sent for the item so far, this one included. */
      attempt: number;
      category: ErrorCategory;
      status: number | null;
      /** Whether the item goes on (a retry, a cooldown, a re-ask) or ends with this failure. */
      retry: boolean;
    }
  | {
      type: 'rate-limited';
      custom_id: string;
      /** What this 429 did to the shared cooldown (opened it, joined or extended it, or nothing: stale). */
      report: RateLimitReport;
      /** The server's pause hint in ms, null when it gave none. */
      hintMs: number | null;
      /** Where the pause came from (the header read, or the escalating default). */
      hintSource: HintSource;
      /** The worker thread that got the 429. */
      thread: number;
      /** The open generation the attempt was sent in. */
      sentGen: number;
      /** GEN when the 429 was reported: the cooldown opened or joined, or for `stale` a later one. */
      gen: number;
      /** The cooldown's end (epoch ms) before and after this report; null where none was published. */
      endBefore: number | null;
      endAfter: number | null;
      /** The run-wide (Redis) cooldown generation the attempt was sent in; 0 on a single machine. */
      globalGen: number;
    };
