/** What the simulator remembers about each request, for tests, benchmarks and the CLI's summary. */
import type { Endpoint } from '../model/endpoint.js';
import type { ContentKind } from './reply-content.js';

/** How a request was (or will be) answered. A 429 for an exhausted quota counts as `'error'`. */
export type SimOutcome = 'ok' | 'rate_limit' | 'error' | 'reset' | 'hang';

/** Which rule decided the outcome. */
export type SimCause =
  /** No fault: the usual success path. */
  | 'normal'
  /** A per-key script step (or the success after a script). */
  | 'script'
  /** A rate-limit storm. */
  | 'storm'
  /** The RPM window was full. */
  | 'rpm'
  /** The TPM window was full (or the request alone exceeds it). */
  | 'tpm'
  /** A random fault rate (`faults.rates`). */
  | 'random'
  /** Missing or wrong API key. */
  | 'auth'
  /** The body was not a valid chat completion request. */
  | 'invalid_request';

/**
 * One request to a model endpoint (chat, text completions, embeddings, responses). Created when the request has been read and its fate decided;
 * `answeredAt`, `status` and `clientAborted` are filled in later.
 */
export interface SimRequestRecord {
  /** 0-based arrival order. */
  seq: number;
  /** Epoch ms with sub-ms precision (`performance.timeOrigin + performance.now()`), when the body was read. */
  arrivedAt: number;
  /** Epoch ms when the response was written; `null` until then, and for reset, hang and client aborts. */
  answeredAt: number | null;
  /** HTTP status sent; `null` until then, and for reset, hang and client aborts. */
  status: number | null;
  outcome: SimOutcome;
  /**
   * Delay the simulator planned before answering (or resetting), in ms: latency plus jitter, or a script
   * step's `delayMs`. Counted from arrival, or for a held request from its storm's release; `null` while
   * held and for hangs. Lets a test check the seeded jitter without trusting timers.
   */
  delayMs: number | null;
  /**
   * Shape of a 200 answer's content — `'text'`, `'json'`, `'embedding'`, or broken on purpose:
   * `'invalid_json'`, `'schema_violation'`, `'malformed'` — so a test can count the re-asks it should
   * cause; `null` for other answers.
   */
  content: ContentKind | null;
  /** Requests being processed when this one arrived, this one included. */
  inFlightAtArrival: number;
  /** The endpoint it was sent to. */
  endpoint: Endpoint;
  /** Content of the last `user` message (string, or text parts concatenated); `''` if none. */
  key: string;
  cause: SimCause;
  /** The client closed the connection before an answer was written. */
  clientAborted: boolean;
}

/** Running totals, kept even when `recordRequests` is off. */
export interface SimStats {
  /** Requests to the model endpoints read so far. */
  requests: number;
  /** Answered 200. */
  ok: number;
  /** Answered 429 for a rate limit. */
  rateLimited: number;
  /** Answered with any other error status. */
  errors: number;
  /** Connections reset on purpose. */
  resets: number;
  /** Requests left unanswered on purpose. */
  hangs: number;
  /** Requests whose client went away before an answer. */
  clientAborts: number;
  /** Requests being processed now. */
  inFlight: number;
  /** Highest `inFlight` seen. */
  maxInFlight: number;
}
