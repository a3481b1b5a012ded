// Run events for observers (progress, logs, tests). Delivered on the main thread: cooldown events
// come from the main thread's keeper, item events from the worker threads (event-channel.ts).

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


export type BatchEvent =
  | {
      type: 'cooldown-opened';
      /** The odd generation of this cooldown. */
      gen: number;
      /** When the main thread saw it open (epoch ms; the opening itself is a little earlier). */
      at: number;
      /** When it is due to end (epoch ms), as first published. */
      until: number;
    }
  | {
      type: 'cooldown-ended';
      gen: number;
      /** When the main thread ended it: epoch ms with sub-ms precision, taken just before the gate opened. */
      at: number;
      /** The in-flight limit the ramp starts from. */
      limit: number;
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
    };
